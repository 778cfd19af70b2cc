/**
 * `/account`: the signed-in user's profile, their API access token (shown, copied, reset)
 * and their labeling hotkey overrides.
 */
import { useEffect, useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../../api/client";
import { ROLE_LABELS } from "../../api/organizations";
import { getApiToken, getHotkeys, resetApiToken, updateHotkeys, updateUser } from "../../api/users";
import { useCurrentUser } from "../../auth";
import {
  Button,
  ConfirmDialog,
  ErrorList,
  errorText,
  formatDate,
  LoadingBlock,
  TextArea,
  TextInput,
  useToast,
} from "../../ui";

export default function Account() {
  return (
    <main className="page page-narrow">
      <h1>Account</h1>
      <ProfileCard />
      <TokenCard />
      <HotkeysCard />
    </main>
  );
}

function ProfileCard() {
  const { user, refresh } = useCurrentUser();
  const toast = useToast();
  const [firstName, setFirstName] = useState(user.first_name);
  const [lastName, setLastName] = useState(user.last_name);
  const [phone, setPhone] = useState(user.phone ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fieldErrors = error instanceof ApiError ? error.fieldErrors : {};
  const dirty = firstName !== user.first_name || lastName !== user.last_name || phone !== (user.phone ?? "");

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await updateUser(user.id, { first_name: firstName.trim(), last_name: lastName.trim(), phone: phone.trim() });
      await refresh();
      toast.show("Profile saved", "success");
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="profile-heading">
      <div className="profile-head">
        <span className="avatar avatar-large" aria-hidden="true">
          {user.initials || user.email.slice(0, 2)}
        </span>
        <div>
          <h2 id="profile-heading" style={{ margin: 0 }}>
            {[user.first_name, user.last_name].filter(Boolean).join(" ") || user.email}
          </h2>
          <div className="muted">
            {user.email}
            {user.role && ` · ${ROLE_LABELS[user.role] ?? user.role}`}
            {user.active_organization_meta && ` in ${user.active_organization_meta.title}`}
            {` · joined ${formatDate(user.date_joined)}`}
          </div>
        </div>
      </div>
      <form onSubmit={onSubmit} aria-label="Profile">
        <div className="form-grid">
          <TextInput label="First name" value={firstName} onChange={(e) => setFirstName(e.target.value)} errors={fieldErrors.first_name} />
          <TextInput label="Last name" value={lastName} onChange={(e) => setLastName(e.target.value)} errors={fieldErrors.last_name} />
          <TextInput label="Phone" type="tel" value={phone} onChange={(e) => setPhone(e.target.value)} errors={fieldErrors.phone} />
        </div>
        <ErrorList error={error instanceof ApiError && Object.keys(fieldErrors).length > 0 ? null : error} />
        <Button type="submit" variant="primary" busy={busy} disabled={!dirty}>
          Save profile
        </Button>
      </form>
    </section>
  );
}

function TokenCard() {
  const toast = useToast();
  const [token, setToken] = useState<string | null>(null);
  const [visible, setVisible] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);

  useEffect(() => {
    getApiToken()
      .then((answer) => setToken(answer.token))
      .catch(setError);
  }, []);

  async function copy() {
    if (!token) return;
    try {
      await navigator.clipboard.writeText(token);
      toast.show("Token copied to the clipboard", "success");
    } catch {
      // Clipboard access can be refused (insecure origin, permissions): select it instead.
      setVisible(true);
      const input = document.getElementById("api-token") as HTMLInputElement | null;
      input?.select();
      toast.show("Copy the selected token with Ctrl+C", "info");
    }
  }

  return (
    <section className="card" aria-labelledby="token-heading">
      <h2 id="token-heading">Access token</h2>
      <p className="muted">
        Use it with the API and the SDK: <code>Authorization: Token &lt;token&gt;</code>. Keep it
        secret; anyone holding it acts as you.
      </p>
      <ErrorList error={error} title="Could not load the token" />
      {!token && !error && <LoadingBlock label="Loading token…" />}
      {token && (
        <div className="token-box">
          <label htmlFor="api-token" className="visually-hidden">
            Access token
          </label>
          <input
            id="api-token"
            className="input"
            readOnly
            type={visible ? "text" : "password"}
            value={token}
            onFocus={(event) => event.currentTarget.select()}
          />
          <Button onClick={() => setVisible((shown) => !shown)} aria-pressed={visible}>
            {visible ? "Hide" : "Show"}
          </Button>
          <Button onClick={() => void copy()}>Copy</Button>
          <Button variant="danger" onClick={() => setConfirming(true)}>
            Reset
          </Button>
        </div>
      )}
      <ConfirmDialog
        open={confirming}
        title="Reset the access token?"
        confirmLabel="Reset token"
        onClose={() => setConfirming(false)}
        onConfirm={async () => {
          const answer = await resetApiToken();
          setToken(answer.token);
          setVisible(true);
          setConfirming(false);
          toast.show("A new token was issued; the old one no longer works", "success");
        }}
      >
        <p>Scripts and integrations using the current token stop working until they get the new one.</p>
      </ConfirmDialog>
    </section>
  );
}

function HotkeysCard() {
  const toast = useToast();
  const [text, setText] = useState<string | null>(null);
  const [saved, setSaved] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    getHotkeys()
      .then((answer) => {
        const pretty = JSON.stringify(answer.custom_hotkeys ?? {}, null, 2);
        setText(pretty);
        setSaved(pretty);
      })
      .catch(setError);
  }, []);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (text === null) return;
    setError(null);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text || "{}");
    } catch (caught) {
      setError(new Error(`Not valid JSON: ${errorText(caught)}`));
      return;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      setError(new Error("Hotkeys must be a JSON object of action → key."));
      return;
    }
    setBusy(true);
    try {
      const answer = await updateHotkeys(parsed as Record<string, unknown>);
      const pretty = JSON.stringify(answer.custom_hotkeys ?? {}, null, 2);
      setText(pretty);
      setSaved(pretty);
      toast.show("Hotkeys saved", "success");
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="hotkeys-heading">
      <h2 id="hotkeys-heading">Hotkeys</h2>
      <p className="muted">
        Override the labeling editor's shortcuts, as a JSON object of action to key, for example{" "}
        <code>{'{"annotation:submit": "ctrl+enter"}'}</code>.
      </p>
      {text === null && !error && <LoadingBlock label="Loading hotkeys…" />}
      {text !== null && (
        <form onSubmit={onSubmit} aria-label="Hotkeys">
          <TextArea
            label="Custom hotkeys (JSON)"
            rows={6}
            value={text}
            spellCheck={false}
            style={{ fontFamily: "var(--mono)" }}
            onChange={(e) => setText(e.target.value)}
          />
          <ErrorList error={error} />
          <Button type="submit" variant="primary" busy={busy} disabled={text === saved}>
            Save hotkeys
          </Button>
        </form>
      )}
      {text === null && <ErrorList error={error} />}
    </section>
  );
}

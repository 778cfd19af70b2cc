/** The shared form of the sign-in and sign-up pages: email, password, inline errors. */
import { useEffect, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";

import { ApiError } from "../../api/client";
import { whoami } from "../../api/users";
import { safeNext } from "../../auth";
import { Button, ErrorList, errorMessages, TextInput } from "../../ui";

const INLINE_FIELDS = new Set(["email", "password"]);

/** What is not shown under the email or password box: the detail, or other fields' reasons. */
function formLevelMessages(error: unknown): string[] {
  if (!(error instanceof ApiError)) return errorMessages(error);
  const entries = Object.entries(error.fieldErrors);
  if (entries.length === 0) return [error.message];
  return entries
    .filter(([field]) => !INLINE_FIELDS.has(field))
    .flatMap(([field, reasons]) =>
      reasons.map((reason) => (field === "non_field_errors" ? reason : `${field}: ${reason}`)),
    );
}

export interface AuthFormProps {
  heading: string;
  submitLabel: string;
  newPassword: boolean;
  submit: (email: string, password: string) => Promise<unknown>;
  footer: (next: string) => ReactNode;
}

export function AuthForm({ heading, submitLabel, newPassword, submit, footer }: AuthFormProps) {
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const fieldErrors = error instanceof ApiError ? error.fieldErrors : {};

  // Someone already signed in has nothing to do here: send them on.
  useEffect(() => {
    const controller = new AbortController();
    whoami(controller.signal)
      .then(() => navigate(next, { replace: true }))
      .catch(() => undefined);
    return () => controller.abort();
  }, [navigate, next]);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await submit(email.trim(), password);
      navigate(next, { replace: true });
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  }

  return (
    <main className="auth-page">
      <div className="auth-card">
        <div className="auth-brand">
          <span className="topbar-logo" aria-hidden="true">
            ◧
          </span>
          LabelOps
        </div>
        <h1>{heading}</h1>
        <form onSubmit={onSubmit} noValidate aria-label={heading}>
          <TextInput
            label="Email"
            type="email"
            name="email"
            autoComplete="email"
            required
            autoFocus
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            errors={fieldErrors.email}
          />
          <TextInput
            label="Password"
            type="password"
            name="password"
            autoComplete={newPassword ? "new-password" : "current-password"}
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            errors={fieldErrors.password}
            hint={newPassword ? "At least 8 characters." : undefined}
          />
          <ErrorList error={formLevelMessages(error)} />
          <Button type="submit" variant="primary" busy={busy}>
            {submitLabel}
          </Button>
        </form>
        <p className="auth-switch">{footer(next)}</p>
      </div>
    </main>
  );
}

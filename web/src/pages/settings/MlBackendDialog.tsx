/**
 * Connecting a model server, or editing one: Label Studio's fields (URL, title, description,
 * interactive flag, basic-auth credentials, timeout, extra params). The server checks the
 * URL and calls the backend's /health and /setup before saving; a refusal shows its reason
 * under the field it names.
 */
import { useEffect, useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../../api/client";
import { createMlBackend, updateMlBackend } from "../../api/ml";
import type { MlAuthMethod, MlBackend, MlBackendInput } from "../../api/ml";
import { Button, Checkbox, ErrorList, Modal, Select, TextArea, TextInput } from "../../ui";

interface Form {
  title: string;
  url: string;
  description: string;
  is_interactive: boolean;
  auth_method: MlAuthMethod;
  basic_auth_user: string;
  basic_auth_pass: string;
  timeout: string;
  extra_params: string;
}

function formOf(backend: MlBackend | null): Form {
  return {
    title: backend?.title ?? "",
    url: backend?.url ?? "",
    description: backend?.description ?? "",
    is_interactive: backend?.is_interactive ?? false,
    auth_method: backend?.auth_method === "BASIC_AUTH" ? "BASIC_AUTH" : "NONE",
    basic_auth_user: backend?.basic_auth_user ?? "",
    basic_auth_pass: "",
    timeout: backend ? String(backend.timeout) : "",
    extra_params: backend?.extra_params ? JSON.stringify(backend.extra_params, null, 2) : "",
  };
}

/** The request body: blank optional fields left out, and a blank password kept as it is. */
export function backendInput(form: Form, projectId: number): MlBackendInput {
  const input: MlBackendInput = {
    project: projectId,
    url: form.url.trim(),
    title: form.title.trim() || undefined,
    description: form.description,
    is_interactive: form.is_interactive,
    auth_method: form.auth_method,
    extra_params: form.extra_params.trim() ? form.extra_params : null,
  };
  if (form.timeout.trim()) input.timeout = Number(form.timeout);
  if (form.auth_method === "BASIC_AUTH") {
    input.basic_auth_user = form.basic_auth_user;
    if (form.basic_auth_pass) input.basic_auth_pass = form.basic_auth_pass;
  }
  return input;
}

export function MlBackendDialog({
  open,
  projectId,
  backend,
  onClose,
  onSaved,
}: {
  open: boolean;
  projectId: number;
  /** null to connect a new one. */
  backend: MlBackend | null;
  onClose: () => void;
  onSaved: (created: boolean) => void;
}) {
  const [form, setForm] = useState<Form>(() => formOf(backend));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fieldErrors = error instanceof ApiError ? error.fieldErrors : {};
  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((current) => ({ ...current, [key]: value }));

  useEffect(() => {
    if (open) {
      setForm(formOf(backend));
      setError(null);
    }
  }, [open, backend]);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const input = backendInput(form, projectId);
      if (backend) await updateMlBackend(backend.id, input);
      else await createMlBackend(input);
      onSaved(!backend);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const title = backend ? `Edit ${backend.title || `model ${backend.id}`}` : "Connect model";
  const shownFields = new Set(["title", "url", "description", "auth_method", "basic_auth_user", "basic_auth_pass", "timeout", "extra_params"]);
  const otherErrors = error instanceof ApiError && Object.keys(fieldErrors).some((field) => shownFields.has(field)) ? null : error;

  return (
    <Modal open={open} title={title} onClose={onClose}>
      <form onSubmit={onSubmit} aria-label={title}>
        <TextInput label="Name" value={form.title} onChange={(e) => set("title", e.target.value)} errors={fieldErrors.title} />
        <TextInput
          label="Backend URL"
          type="url"
          required
          placeholder="http://ml-backend:9090"
          value={form.url}
          onChange={(e) => set("url", e.target.value)}
          errors={fieldErrors.url}
        />
        <TextArea
          label="Description"
          rows={2}
          value={form.description}
          onChange={(e) => set("description", e.target.value)}
          errors={fieldErrors.description}
        />
        <Checkbox
          label="Interactive pre-annotations"
          hint="Ask the model while labeling (smart tools)."
          checked={form.is_interactive}
          onChange={(e) => set("is_interactive", e.target.checked)}
        />
        <Select
          label="Authentication"
          value={form.auth_method}
          onChange={(e) => set("auth_method", e.target.value as MlAuthMethod)}
          options={[
            { value: "NONE", label: "None" },
            { value: "BASIC_AUTH", label: "Basic auth" },
          ]}
          errors={fieldErrors.auth_method}
        />
        {form.auth_method === "BASIC_AUTH" && (
          <>
            <TextInput
              label="Basic auth user"
              autoComplete="off"
              value={form.basic_auth_user}
              onChange={(e) => set("basic_auth_user", e.target.value)}
              errors={fieldErrors.basic_auth_user}
            />
            <TextInput
              label="Basic auth password"
              type="password"
              autoComplete="new-password"
              placeholder={backend?.basic_auth_pass_is_set ? "Set (leave blank to keep it)" : ""}
              value={form.basic_auth_pass}
              onChange={(e) => set("basic_auth_pass", e.target.value)}
              errors={fieldErrors.basic_auth_pass}
            />
          </>
        )}
        <TextInput
          label="Timeout (seconds)"
          type="number"
          min={0.1}
          step="any"
          placeholder="100"
          hint="How long a prediction request may take."
          value={form.timeout}
          onChange={(e) => set("timeout", e.target.value)}
          errors={fieldErrors.timeout}
        />
        <TextArea
          label="Extra parameters (JSON)"
          rows={3}
          placeholder='{"threshold": 0.5}'
          hint="Sent to the model server with /setup."
          value={form.extra_params}
          onChange={(e) => set("extra_params", e.target.value)}
          errors={fieldErrors.extra_params}
        />
        <ErrorList error={otherErrors} />
        <div className="button-row" style={{ justifyContent: "flex-end" }}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>
            {backend ? "Save" : "Connect"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}

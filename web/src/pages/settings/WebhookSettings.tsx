/** Webhooks: URLs called when this project's tasks, annotations or settings change. */
import { useCallback, useEffect, useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../../api/client";
import { createWebhook, deleteWebhook, listWebhooks, updateWebhook, WEBHOOK_ACTIONS } from "../../api/webhooks";
import type { Webhook, WebhookAction } from "../../api/webhooks";
import { useProject } from "../../layout";
import {
  Button,
  Checkbox,
  ConfirmDialog,
  EmptyState,
  ErrorList,
  errorText,
  formatDateTime,
  ListTable,
  LoadingBlock,
  Modal,
  TextArea,
  TextInput,
  useLoaded,
  useToast,
} from "../../ui";
import { isUnavailable, NotAvailable } from "./Unavailable";

export function WebhookSettings() {
  const { project } = useProject();
  const toast = useToast();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Webhook | null>(null);
  const {
    data: webhooks,
    error,
    reload: load,
  } = useLoaded<Webhook[]>(useCallback(() => listWebhooks(project.id), [project.id]));

  if (isUnavailable(error)) return <NotAvailable feature="Webhooks" />;

  return (
    <div>
      <div className="button-row" style={{ marginBottom: 12 }}>
        <span className="muted">The server POSTs a JSON event to each URL when the chosen actions happen.</span>
        <div className="spacer" />
        <Button variant="primary" onClick={() => setAdding(true)} disabled={!!error}>
          Add webhook
        </Button>
      </div>
      <ErrorList error={error} title="Could not load webhooks" />
      {!webhooks && !error && <LoadingBlock label="Loading webhooks…" />}
      {webhooks && webhooks.length === 0 && <EmptyState title="No webhooks yet" />}
      {webhooks && webhooks.length > 0 && (
        <ListTable label="Webhooks" columns={["URL", "Events", "Active", "Created"]}>
          {webhooks.map((webhook) => (
            <tr key={webhook.id}>
              <td>
                <code>{webhook.url}</code>
              </td>
              <td>
                {webhook.send_for_all_actions
                  ? "All events"
                  : webhook.actions.map((action) => WEBHOOK_ACTIONS.find((a) => a.action === action)?.label ?? action).join(", ")}
              </td>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Active: ${webhook.url}`}
                  checked={webhook.is_active}
                  onChange={async (event) => {
                    try {
                      await updateWebhook(webhook.id, { is_active: event.target.checked });
                      await load();
                    } catch (caught) {
                      toast.show(errorText(caught), "error");
                    }
                  }}
                />
              </td>
              <td>{formatDateTime(webhook.created_at)}</td>
              <td style={{ textAlign: "right" }}>
                <Button size="small" variant="ghost" aria-label={`Remove ${webhook.url}`} onClick={() => setRemoving(webhook)}>
                  Remove
                </Button>
              </td>
            </tr>
          ))}
        </ListTable>
      )}
      <AddWebhookDialog
        open={adding}
        projectId={project.id}
        onClose={() => setAdding(false)}
        onAdded={() => {
          setAdding(false);
          toast.show("Webhook added", "success");
          void load();
        }}
      />
      <ConfirmDialog
        open={removing !== null}
        title="Remove webhook"
        confirmLabel="Remove"
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing) return;
          await deleteWebhook(removing.id);
          setRemoving(null);
          await load();
        }}
      >
        <p>{removing?.url} will no longer be called.</p>
      </ConfirmDialog>
    </div>
  );
}

/** `Name: value` lines into a headers object; a line without a colon is an error. */
function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`Header line “${line.trim()}” needs the form Name: value`);
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function AddWebhookDialog({
  open,
  projectId,
  onClose,
  onAdded,
}: {
  open: boolean;
  projectId: number;
  onClose: () => void;
  onAdded: () => void;
}) {
  const [url, setUrl] = useState("");
  const [headers, setHeaders] = useState("");
  const [sendPayload, setSendPayload] = useState(true);
  const [allActions, setAllActions] = useState(true);
  const [actions, setActions] = useState<WebhookAction[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fieldErrors = error instanceof ApiError ? error.fieldErrors : {};

  useEffect(() => {
    if (open) {
      setUrl("");
      setHeaders("");
      setSendPayload(true);
      setAllActions(true);
      setActions([]);
      setError(null);
    }
  }, [open]);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await createWebhook({
        project: projectId,
        url: url.trim(),
        headers: parseHeaders(headers),
        send_payload: sendPayload,
        send_for_all_actions: allActions,
        actions: allActions ? [] : actions,
        is_active: true,
      });
      onAdded();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal open={open} title="Add webhook" onClose={onClose}>
      <form onSubmit={onSubmit} aria-label="Add webhook">
        <TextInput
          label="Payload URL"
          type="url"
          required
          placeholder="https://example.com/hooks/labelops"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          errors={fieldErrors.url}
        />
        <TextArea
          label="Headers"
          rows={3}
          placeholder="Authorization: Bearer …"
          hint="One per line, Name: value."
          value={headers}
          onChange={(e) => setHeaders(e.target.value)}
          errors={fieldErrors.headers}
        />
        <Checkbox label="Send the full payload" checked={sendPayload} onChange={(e) => setSendPayload(e.target.checked)} />
        <Checkbox label="Send for every event" checked={allActions} onChange={(e) => setAllActions(e.target.checked)} />
        {!allActions && (
          <fieldset className="group">
            <legend>Events</legend>
            {WEBHOOK_ACTIONS.map(({ action, label }) => (
              <Checkbox
                key={action}
                label={label}
                checked={actions.includes(action)}
                onChange={(e) =>
                  setActions((current) =>
                    e.target.checked ? [...current, action] : current.filter((item) => item !== action),
                  )
                }
              />
            ))}
          </fieldset>
        )}
        <ErrorList error={error instanceof ApiError && Object.keys(fieldErrors).length > 0 ? null : error} />
        <div className="button-row" style={{ justifyContent: "flex-end" }}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>
            Add webhook
          </Button>
        </div>
      </form>
    </Modal>
  );
}

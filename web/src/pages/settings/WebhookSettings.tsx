/**
 * Webhooks: URLs called when this project's tasks, annotations or settings change.
 * Add, edit, switch off, remove; send a test call; read each webhook's delivery log
 * (status, attempts, last error, latency) and send a delivery again.
 */
import { useCallback, useEffect, useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../../api/client";
import {
  createWebhook,
  deleteWebhook,
  listDeliveries,
  listWebhooks,
  MASKED_VALUE,
  redeliver,
  sendTest,
  updateWebhook,
  WEBHOOK_ACTIONS,
} from "../../api/webhooks";
import type { Webhook, WebhookAction, WebhookDelivery } from "../../api/webhooks";
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
  const [editing, setEditing] = useState<Webhook | "new" | null>(null);
  const [removing, setRemoving] = useState<Webhook | null>(null);
  const [inspecting, setInspecting] = useState<Webhook | null>(null);
  const [newSecret, setNewSecret] = useState<string | null>(null);
  const {
    data: webhooks,
    error,
    reload: load,
  } = useLoaded<Webhook[]>(useCallback(() => listWebhooks(project.id), [project.id]));

  if (isUnavailable(error)) return <NotAvailable feature="Webhooks" />;

  async function test(webhook: Webhook) {
    try {
      await sendTest(webhook.id);
      toast.show("Test call queued: see its delivery", "success");
      setInspecting(webhook);
    } catch (caught) {
      toast.show(errorText(caught), "error");
    }
  }

  return (
    <div>
      <div className="button-row" style={{ marginBottom: 12 }}>
        <span className="muted">
          The server POSTs a JSON event to each URL when the chosen actions happen, signed with the webhook's secret
          (header <code>X-LabelOps-Signature-256</code>), and retries a failed call.
        </span>
        <div className="spacer" />
        <Button variant="primary" onClick={() => setEditing("new")} disabled={!!error}>
          Add webhook
        </Button>
      </div>
      <ErrorList error={error} title="Could not load webhooks" />
      {!webhooks && !error && <LoadingBlock label="Loading webhooks…" />}
      {webhooks && webhooks.length === 0 && <EmptyState title="No webhooks yet" />}
      {webhooks && webhooks.length > 0 && (
        <ListTable label="Webhooks" columns={["URL", "Events", "Active", "Created", ""]}>
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
              <td style={{ textAlign: "right", whiteSpace: "nowrap" }}>
                <Button size="small" variant="ghost" aria-label={`Edit ${webhook.url}`} onClick={() => setEditing(webhook)}>
                  Edit
                </Button>
                <Button size="small" variant="ghost" aria-label={`Send a test to ${webhook.url}`} onClick={() => void test(webhook)}>
                  Test
                </Button>
                <Button size="small" variant="ghost" aria-label={`Deliveries of ${webhook.url}`} onClick={() => setInspecting(webhook)}>
                  Deliveries
                </Button>
                <Button size="small" variant="ghost" aria-label={`Remove ${webhook.url}`} onClick={() => setRemoving(webhook)}>
                  Remove
                </Button>
              </td>
            </tr>
          ))}
        </ListTable>
      )}
      <WebhookDialog
        webhook={editing}
        projectId={project.id}
        onClose={() => setEditing(null)}
        onSaved={(secret) => {
          const added = editing === "new";
          setEditing(null);
          toast.show(added ? "Webhook added" : "Webhook saved", "success");
          if (secret) setNewSecret(secret);
          void load();
        }}
      />
      <Modal
        open={newSecret !== null}
        title="Signing secret"
        onClose={() => setNewSecret(null)}
        footer={
          <Button variant="primary" onClick={() => setNewSecret(null)}>
            Done
          </Button>
        }
      >
        <p>Receivers check each call's <code>X-LabelOps-Signature-256</code> header with this secret. It is shown only now.</p>
        <pre aria-label="The new signing secret">
          {newSecret}
        </pre>
      </Modal>
      <DeliveriesDialog webhook={inspecting} onClose={() => setInspecting(null)} />
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
export function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`Header line “${line.trim()}” needs the form Name: value`);
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** A webhook's headers as editable lines; stored values show masked and are kept if left so. */
export function headerLines(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join("\n");
}

function WebhookDialog({
  webhook,
  projectId,
  onClose,
  onSaved,
}: {
  webhook: Webhook | "new" | null;
  projectId: number;
  onClose: () => void;
  /** Called with the signing secret when the server generated one. */
  onSaved: (secret: string | null) => void;
}) {
  const existing = webhook !== null && webhook !== "new" ? webhook : null;
  const [url, setUrl] = useState("");
  const [headers, setHeaders] = useState("");
  const [sendPayload, setSendPayload] = useState(true);
  const [allActions, setAllActions] = useState(true);
  const [actions, setActions] = useState<WebhookAction[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fieldErrors = error instanceof ApiError ? error.fieldErrors : {};

  useEffect(() => {
    if (webhook === null) return;
    setUrl(existing?.url ?? "");
    setHeaders(existing ? headerLines(existing.headers) : "");
    setSendPayload(existing?.send_payload ?? true);
    setAllActions(existing?.send_for_all_actions ?? true);
    setActions((existing?.actions as WebhookAction[] | undefined) ?? []);
    setError(null);
  }, [webhook, existing]);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const fields = {
        url: url.trim(),
        headers: parseHeaders(headers),
        send_payload: sendPayload,
        send_for_all_actions: allActions,
        actions: allActions ? [] : actions,
      };
      if (existing) {
        await updateWebhook(existing.id, fields);
        onSaved(null);
      } else {
        const created = await createWebhook({ ...fields, project: projectId, is_active: true });
        onSaved(created.secret ?? null);
      }
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const title = existing ? "Edit webhook" : "Add webhook";
  return (
    <Modal open={webhook !== null} title={title} onClose={onClose}>
      <form onSubmit={onSubmit} aria-label={title}>
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
          hint={`One per line, Name: value. Stored values show as ${MASKED_VALUE} and are kept unless you replace them.`}
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
            {existing ? "Save" : "Add webhook"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}

const STATUS_LABELS: Record<WebhookDelivery["status"], string> = {
  queued: "Queued",
  running: "Sending",
  succeeded: "Delivered",
  failed: "Failed",
  cancelled: "Cancelled",
};

function DeliveriesDialog({ webhook, onClose }: { webhook: Webhook | null; onClose: () => void }) {
  const toast = useToast();
  const [deliveries, setDeliveries] = useState<WebhookDelivery[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    if (!webhook) return;
    try {
      setDeliveries(await listDeliveries(webhook.id));
      setError(null);
    } catch (caught) {
      setError(caught);
    }
  }, [webhook]);

  useEffect(() => {
    setDeliveries(null);
    if (!webhook) return;
    void load();
    // Deliveries change as the worker sends them: follow while the dialog is open.
    const timer = window.setInterval(() => void load(), 2000);
    return () => window.clearInterval(timer);
  }, [webhook, load]);

  return (
    <Modal
      open={webhook !== null}
      title="Deliveries"
      size="wide"
      onClose={onClose}
      footer={<Button onClick={() => void load()}>Refresh</Button>}
    >
      <p className="muted">
        <code>{webhook?.url}</code>: newest first.
      </p>
      <ErrorList error={error} title="Could not load deliveries" />
      {!deliveries && !error && <LoadingBlock label="Loading deliveries…" />}
      {deliveries && deliveries.length === 0 && <EmptyState title="No deliveries yet" />}
      {deliveries && deliveries.length > 0 && (
        <ListTable label="Deliveries" columns={["Event", "Status", "Attempts", "Last error", "Latency", "Event time", ""]}>
          {deliveries.map((delivery) => (
            <tr key={delivery.id}>
              <td>
                <code>{delivery.action}</code>
              </td>
              <td>{STATUS_LABELS[delivery.status]}</td>
              <td>
                {delivery.attempts} / {delivery.max_attempts}
              </td>
              <td>{delivery.last_error ?? ""}</td>
              <td>{delivery.latency_ms === null ? "" : `${delivery.latency_ms} ms`}</td>
              <td>{formatDateTime(delivery.occurred_at)}</td>
              <td style={{ textAlign: "right" }}>
                <Button
                  size="small"
                  variant="ghost"
                  aria-label={`Redeliver ${delivery.id}`}
                  disabled={delivery.status === "queued" || delivery.status === "running"}
                  onClick={async () => {
                    if (!webhook) return;
                    try {
                      await redeliver(webhook.id, delivery.id);
                      toast.show("Delivery queued again", "success");
                      await load();
                    } catch (caught) {
                      toast.show(errorText(caught), "error");
                    }
                  }}
                >
                  Redeliver
                </Button>
              </td>
            </tr>
          ))}
        </ListTable>
      )}
    </Modal>
  );
}

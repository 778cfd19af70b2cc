/** Machine learning: the model servers connected to the project, with their state. */
import { useCallback, useEffect, useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../../api/client";
import { createMlBackend, deleteMlBackend, listMlBackends, ML_STATE_LABELS, trainMlBackend } from "../../api/ml";
import type { MlBackend, MlBackendState } from "../../api/ml";
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
  TextInput,
  useLoaded,
  useToast,
} from "../../ui";
import { isUnavailable, NotAvailable } from "./Unavailable";

const STATE_BADGE: Record<MlBackendState, string> = {
  CO: "badge-success",
  DI: "",
  ER: "badge-danger",
  TR: "badge-info",
  PR: "badge-info",
};

export function MlSettings() {
  const { project } = useProject();
  const toast = useToast();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<MlBackend | null>(null);
  const {
    data: backends,
    error,
    reload: load,
  } = useLoaded<MlBackend[]>(useCallback(() => listMlBackends(project.id), [project.id]));

  if (isUnavailable(error)) return <NotAvailable feature="ML backends" />;

  return (
    <div>
      <div className="button-row" style={{ marginBottom: 12 }}>
        <span className="muted">
          A model server (Label Studio's ML backend protocol) pre-labels tasks and can train on
          submitted annotations.
        </span>
        <div className="spacer" />
        <Button variant="primary" onClick={() => setAdding(true)} disabled={!!error}>
          Connect model
        </Button>
      </div>
      <ErrorList error={error} title="Could not load ML backends" />
      {!backends && !error && <LoadingBlock label="Loading ML backends…" />}
      {backends && backends.length === 0 && (
        <EmptyState title="No model connected">Connect a model server to get predictions as pre-labels.</EmptyState>
      )}
      {backends && backends.length > 0 && (
        <ListTable label="ML backends" columns={["Name", "URL", "State", "Model version", "Updated"]}>
          {backends.map((backend) => (
            <tr key={backend.id}>
              <td>
                {backend.title || `Model ${backend.id}`}
                {backend.is_interactive && <span className="badge badge-info" style={{ marginLeft: 6 }}>interactive</span>}
              </td>
              <td>
                <code>{backend.url}</code>
              </td>
              <td>
                <span className={`badge ${STATE_BADGE[backend.state] ?? ""}`}>
                  {backend.readable_state || ML_STATE_LABELS[backend.state] || backend.state}
                </span>
                {backend.error_message && (
                  <details>
                    <summary className="muted">Error</summary>
                    <pre style={{ whiteSpace: "pre-wrap" }}>{backend.error_message}</pre>
                  </details>
                )}
              </td>
              <td>{backend.model_version || <span className="muted">—</span>}</td>
              <td>{formatDateTime(backend.updated_at)}</td>
              <td style={{ textAlign: "right", whiteSpace: "nowrap" }}>
                <Button
                  size="small"
                  onClick={async () => {
                    try {
                      await trainMlBackend(backend.id);
                      toast.show("Training started", "success");
                      await load();
                    } catch (caught) {
                      toast.show(errorText(caught), "error");
                    }
                  }}
                >
                  Train
                </Button>{" "}
                <Button size="small" variant="ghost" aria-label={`Remove ${backend.title || backend.url}`} onClick={() => setRemoving(backend)}>
                  Remove
                </Button>
              </td>
            </tr>
          ))}
        </ListTable>
      )}
      <AddMlBackendDialog
        open={adding}
        projectId={project.id}
        onClose={() => setAdding(false)}
        onAdded={() => {
          setAdding(false);
          toast.show("Model connected", "success");
          void load();
        }}
      />
      <ConfirmDialog
        open={removing !== null}
        title="Disconnect model"
        confirmLabel="Disconnect"
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing) return;
          await deleteMlBackend(removing.id);
          setRemoving(null);
          await load();
        }}
      >
        <p>Predictions already made stay on their tasks.</p>
      </ConfirmDialog>
    </div>
  );
}

function AddMlBackendDialog({
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
  const [title, setTitle] = useState("");
  const [url, setUrl] = useState("");
  const [interactive, setInteractive] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fieldErrors = error instanceof ApiError ? error.fieldErrors : {};

  useEffect(() => {
    if (open) {
      setTitle("");
      setUrl("");
      setInteractive(false);
      setError(null);
    }
  }, [open]);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await createMlBackend({ project: projectId, title: title.trim() || undefined, url: url.trim(), is_interactive: interactive });
      onAdded();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal open={open} title="Connect model" onClose={onClose}>
      <form onSubmit={onSubmit} aria-label="Connect model">
        <TextInput label="Name" value={title} onChange={(e) => setTitle(e.target.value)} errors={fieldErrors.title} />
        <TextInput
          label="Backend URL"
          type="url"
          required
          placeholder="http://ml-backend:9090"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          errors={fieldErrors.url}
        />
        <Checkbox
          label="Interactive pre-annotations"
          hint="Ask the model while labeling (smart tools)."
          checked={interactive}
          onChange={(e) => setInteractive(e.target.checked)}
        />
        <ErrorList error={error instanceof ApiError && Object.keys(fieldErrors).length > 0 ? null : error} />
        <div className="button-row" style={{ justifyContent: "flex-end" }}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>
            Connect
          </Button>
        </div>
      </form>
    </Modal>
  );
}

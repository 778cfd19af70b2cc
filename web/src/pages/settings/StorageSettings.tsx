/**
 * Cloud storage: source storages (tasks come from a bucket or folder) and target storages
 * (annotations are written back), each with its last sync's status, count and error, a
 * running sync's progress, and add, edit, sync and remove.
 */
import { useCallback, useEffect, useState } from "react";

import { deleteStorage, listStorages, listStorageTypes, STORAGE_TYPE_TITLES, syncStorage } from "../../api/storages";
import type { Storage, StorageDirection, StorageStatus, StorageType, StorageTypeInfo } from "../../api/storages";
import { useProject } from "../../layout";
import {
  Button,
  ConfirmDialog,
  EmptyState,
  ErrorList,
  errorText,
  formatCount,
  formatDateTime,
  ListTable,
  LoadingBlock,
  useLoaded,
  useToast,
} from "../../ui";
import { StorageDialog } from "./StorageDialog";
import { isRunning, syncProgress } from "./storageForm";
import { isUnavailable, NotAvailable } from "./Unavailable";

const STATUS_BADGE: Record<StorageStatus, string> = {
  initialized: "",
  queued: "badge-info",
  in_progress: "badge-info",
  failed: "badge-danger",
  completed: "badge-success",
  completed_with_errors: "badge-warning",
};

const STATUS_LABEL: Record<StorageStatus, string> = {
  initialized: "Not synced yet",
  queued: "Queued",
  in_progress: "Syncing",
  failed: "Failed",
  completed: "Synced",
  completed_with_errors: "Synced with errors",
};

/** How often the list is asked again while one of its storages syncs. */
const POLL_MS = 1500;

const FALLBACK_TYPES: StorageTypeInfo[] = (Object.keys(STORAGE_TYPE_TITLES) as StorageType[]).map((name) => ({
  name,
  title: STORAGE_TYPE_TITLES[name],
}));

export function StorageSettings() {
  return (
    <div>
      <StorageList direction="import" />
      <StorageList direction="export" />
    </div>
  );
}

function storageName(storage: Storage): string {
  return storage.title || `${STORAGE_TYPE_TITLES[storage.type] ?? storage.type} ${storage.id}`;
}

function StorageList({ direction }: { direction: StorageDirection }) {
  const { project } = useProject();
  const toast = useToast();
  const [types, setTypes] = useState<StorageTypeInfo[]>(FALLBACK_TYPES);
  // null: closed; "new": adding; a storage: editing it.
  const [dialog, setDialog] = useState<Storage | "new" | null>(null);
  const [removing, setRemoving] = useState<Storage | null>(null);
  const [syncing, setSyncing] = useState<string | null>(null);
  const heading = direction === "import" ? "Source cloud storage" : "Target cloud storage";
  const noun = direction === "import" ? "source storage" : "target storage";

  const {
    data: storages,
    error,
    reload: load,
  } = useLoaded<Storage[]>(useCallback(() => listStorages(direction, project.id), [direction, project.id]));

  useEffect(() => {
    listStorageTypes(direction)
      .then((offered) => {
        if (offered.length > 0) setTypes(offered);
      })
      .catch(() => undefined);
  }, [direction]);

  // While a sync runs, ask again every moment so its status and counts move.
  const running = storages?.some(isRunning) ?? false;
  useEffect(() => {
    if (!running) return;
    const timer = window.setInterval(() => void load(), POLL_MS);
    return () => window.clearInterval(timer);
  }, [running, load]);

  async function sync(storage: Storage) {
    const key = `${storage.type}-${storage.id}`;
    setSyncing(key);
    try {
      await syncStorage(direction, storage.type, storage.id);
      toast.show(`Sync of ${storageName(storage)} started`, "success");
      await load();
    } catch (caught) {
      toast.show(errorText(caught), "error");
    } finally {
      setSyncing(null);
    }
  }

  return (
    <section className="card" aria-label={heading}>
      <div className="section-title">
        <h3 style={{ margin: 0 }}>{heading}</h3>
        <div className="spacer" />
        {!isUnavailable(error) && (
          <Button variant="primary" size="small" onClick={() => setDialog("new")} disabled={!!error}>
            {direction === "import" ? "Add source storage" : "Add target storage"}
          </Button>
        )}
      </div>
      <p className="muted" style={{ marginTop: 0 }}>
        {direction === "import"
          ? "Tasks are created from the objects of a bucket or folder; a sync adds only objects not imported yet."
          : "Annotations are written to a bucket or folder as they are saved; a sync writes those missing."}
      </p>
      {isUnavailable(error) ? (
        <NotAvailable feature="Cloud storages" />
      ) : (
        <>
          <ErrorList error={error} title="Could not load storages" />
          {!storages && !error && <LoadingBlock label="Loading storages…" />}
          {storages && storages.length === 0 && <EmptyState title="No storage connected" />}
          {storages && storages.length > 0 && (
            <ListTable
              label={heading}
              columns={["Name", "Type", "Status", "Last sync", direction === "import" ? "Tasks" : "Annotations"]}
            >
              {storages.map((storage) => {
                const key = `${storage.type}-${storage.id}`;
                const name = storageName(storage);
                return (
                  <tr key={key} aria-label={name}>
                    <td>{name}</td>
                    <td>{STORAGE_TYPE_TITLES[storage.type] ?? storage.type}</td>
                    <td>
                      <span className={`badge ${STATUS_BADGE[storage.status] ?? ""}`}>
                        {STATUS_LABEL[storage.status] ?? storage.status}
                      </span>
                      {isRunning(storage) && <SyncProgressLine storage={storage} direction={direction} />}
                      {storage.traceback && (
                        <details>
                          <summary className="muted">Error details</summary>
                          <pre style={{ whiteSpace: "pre-wrap", maxHeight: 200, overflow: "auto" }}>{storage.traceback}</pre>
                        </details>
                      )}
                    </td>
                    <td>{formatDateTime(storage.last_sync)}</td>
                    <td>{storage.last_sync_count == null ? "—" : formatCount(storage.last_sync_count)}</td>
                    <td style={{ textAlign: "right", whiteSpace: "nowrap" }}>
                      <Button
                        size="small"
                        busy={syncing === key}
                        disabled={isRunning(storage)}
                        aria-label={`Sync ${name}`}
                        onClick={() => void sync(storage)}
                      >
                        Sync
                      </Button>{" "}
                      <Button size="small" aria-label={`Edit ${name}`} onClick={() => setDialog(storage)}>
                        Edit
                      </Button>{" "}
                      <Button size="small" variant="ghost" aria-label={`Remove ${name}`} onClick={() => setRemoving(storage)}>
                        Remove
                      </Button>
                    </td>
                  </tr>
                );
              })}
            </ListTable>
          )}
        </>
      )}
      <StorageDialog
        open={dialog !== null}
        direction={direction}
        types={types}
        projectId={project.id}
        editing={dialog === "new" ? null : dialog}
        onClose={() => setDialog(null)}
        onSaved={(saved) => {
          toast.show(dialog === "new" ? `${storageName(saved)} added` : `${storageName(saved)} saved`, "success");
          setDialog(null);
          void load();
        }}
      />
      <ConfirmDialog
        open={removing !== null}
        title={`Remove ${noun}`}
        confirmLabel="Remove"
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing) return;
          await deleteStorage(direction, removing.type, removing.id);
          toast.show(`${storageName(removing)} removed`, "success");
          setRemoving(null);
          await load();
        }}
      >
        <p>
          Remove <strong>{removing ? storageName(removing) : ""}</strong>?{" "}
          {direction === "import"
            ? "Tasks already imported from it stay in the project."
            : "Files already written stay in the storage."}
        </p>
      </ConfirmDialog>
    </section>
  );
}

/** A running sync: when it started, and what it wrote so far once the server reports it. */
function SyncProgressLine({ storage, direction }: { storage: Storage; direction: StorageDirection }) {
  const progress = syncProgress(storage);
  const what = direction === "import" ? "tasks" : "annotations";
  let text = "Waiting for a worker…";
  if (storage.status === "in_progress") {
    text = progress.startedAt ? `Started ${formatDateTime(progress.startedAt)}` : "Started";
    if (progress.created !== null) text += ` · ${formatCount(progress.created)} ${what} written`;
    if (progress.existed) text += `, ${formatCount(progress.existed)} already there`;
  }
  return (
    <div className="muted" role="status" aria-label={`Sync progress of ${storageName(storage)}`} style={{ fontSize: 12, marginTop: 4 }}>
      {text}
    </div>
  );
}

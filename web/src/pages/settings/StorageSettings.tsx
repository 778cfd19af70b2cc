/**
 * Cloud storage: source storages (tasks come from a bucket or folder) and target storages
 * (annotations are written back), each with its last sync's status, count and error.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../../api/client";
import {
  createStorage,
  deleteStorage,
  listStorages,
  listStorageTypes,
  STORAGE_FIELDS,
  STORAGE_TYPE_TITLES,
  syncStorage,
  validateStorage,
} from "../../api/storages";
import type { Storage, StorageDirection, StorageStatus, StorageType, StorageTypeInfo } from "../../api/storages";
import { useProject } from "../../layout";
import {
  Button,
  Checkbox,
  ConfirmDialog,
  EmptyState,
  ErrorList,
  errorText,
  formatCount,
  formatDateTime,
  ListTable,
  LoadingBlock,
  Modal,
  Select,
  TextArea,
  TextInput,
  useLoaded,
  useToast,
} from "../../ui";
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

function StorageList({ direction }: { direction: StorageDirection }) {
  const { project } = useProject();
  const toast = useToast();
  const [types, setTypes] = useState<StorageTypeInfo[]>(FALLBACK_TYPES);
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Storage | null>(null);
  const [syncing, setSyncing] = useState<number | null>(null);
  const heading = direction === "import" ? "Source cloud storage" : "Target cloud storage";

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

  // While a sync runs, look again every few seconds so its status and count move.
  const running = storages?.some((storage) => storage.status === "queued" || storage.status === "in_progress");
  useEffect(() => {
    if (!running) return;
    const timer = window.setInterval(() => void load(), 3000);
    return () => window.clearInterval(timer);
  }, [running, load]);

  return (
    <section className="card" aria-label={heading}>
      <div className="section-title">
        <h3 style={{ margin: 0 }}>{heading}</h3>
        <div className="spacer" />
        {!isUnavailable(error) && (
          <Button variant="primary" size="small" onClick={() => setAdding(true)} disabled={!!error}>
            {direction === "import" ? "Add source storage" : "Add target storage"}
          </Button>
        )}
      </div>
      <p className="muted" style={{ marginTop: 0 }}>
        {direction === "import"
          ? "Tasks are created from the objects of a bucket or folder; media load through pre-signed URLs."
          : "Annotations are written to a bucket or folder as they are submitted, or when you sync."}
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
              {storages.map((storage) => (
                <tr key={`${storage.type}-${storage.id}`}>
                  <td>{storage.title || `${STORAGE_TYPE_TITLES[storage.type] ?? storage.type} ${storage.id}`}</td>
                  <td>{STORAGE_TYPE_TITLES[storage.type] ?? storage.type}</td>
                  <td>
                    <span className={`badge ${STATUS_BADGE[storage.status] ?? ""}`}>
                      {STATUS_LABEL[storage.status] ?? storage.status}
                    </span>
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
                      busy={syncing === storage.id}
                      onClick={async () => {
                        setSyncing(storage.id);
                        try {
                          await syncStorage(direction, storage.type, storage.id);
                          toast.show("Sync started", "success");
                          await load();
                        } catch (caught) {
                          toast.show(errorText(caught), "error");
                        } finally {
                          setSyncing(null);
                        }
                      }}
                    >
                      Sync
                    </Button>{" "}
                    <Button size="small" variant="ghost" onClick={() => setRemoving(storage)} aria-label={`Remove ${storage.title || storage.type}`}>
                      Remove
                    </Button>
                  </td>
                </tr>
              ))}
            </ListTable>
          )}
        </>
      )}
      <AddStorageDialog
        open={adding}
        direction={direction}
        types={types}
        projectId={project.id}
        onClose={() => setAdding(false)}
        onAdded={() => {
          setAdding(false);
          toast.show("Storage added", "success");
          void load();
        }}
      />
      <ConfirmDialog
        open={removing !== null}
        title="Remove storage"
        confirmLabel="Remove"
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing) return;
          await deleteStorage(direction, removing.type, removing.id);
          setRemoving(null);
          await load();
        }}
      >
        <p>
          {direction === "import"
            ? "Tasks already imported from it stay in the project."
            : "Files already written stay in the storage."}
        </p>
      </ConfirmDialog>
    </section>
  );
}

function initialValues(type: StorageType, direction: StorageDirection): Record<string, unknown> {
  const values: Record<string, unknown> = { title: "", description: "" };
  for (const field of STORAGE_FIELDS[type]) {
    if (field.only && field.only !== direction) continue;
    values[field.name] = field.defaultValue ?? (field.kind === "checkbox" ? false : "");
  }
  return values;
}

function AddStorageDialog({
  open,
  direction,
  types,
  projectId,
  onClose,
  onAdded,
}: {
  open: boolean;
  direction: StorageDirection;
  types: StorageTypeInfo[];
  projectId: number;
  onClose: () => void;
  onAdded: () => void;
}) {
  const firstType = (types[0]?.name ?? "s3") as StorageType;
  const [type, setType] = useState<StorageType>(firstType);
  const [values, setValues] = useState<Record<string, unknown>>(() => initialValues(firstType, direction));
  const [busy, setBusy] = useState<"check" | "save" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [checked, setChecked] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const fieldErrors = error instanceof ApiError ? error.fieldErrors : {};
  const fields = useMemo(
    () => (STORAGE_FIELDS[type] ?? []).filter((field) => !field.only || field.only === direction),
    [type, direction],
  );

  useEffect(() => {
    if (open) {
      setType(firstType);
      setValues(initialValues(firstType, direction));
      setError(null);
      setChecked(false);
    }
  }, [open, firstType, direction]);

  // The form scrolls; bring the first field the server named into view.
  useEffect(() => {
    const invalid = form.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
    invalid?.focus();
  }, [error]);

  function body(): Record<string, unknown> {
    const result: Record<string, unknown> = { project: projectId };
    for (const [name, value] of Object.entries(values)) {
      if (value === "") continue;
      const field = fields.find((candidate) => candidate.name === name);
      result[name] = field?.kind === "number" ? Number(value) : value;
    }
    return result;
  }

  async function run(action: "check" | "save") {
    setBusy(action);
    setError(null);
    setChecked(false);
    try {
      if (action === "check") {
        await validateStorage(direction, type, body());
        setChecked(true);
      } else {
        await createStorage(direction, type, body());
        onAdded();
      }
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(null);
    }
  }

  const generalErrors =
    error instanceof ApiError
      ? Object.entries(error.fieldErrors)
          .filter(([name]) => name !== "title" && !fields.some((field) => field.name === name))
          .flatMap(([name, reasons]) => reasons.map((reason) => (name === "non_field_errors" ? reason : `${name}: ${reason}`)))
      : error;
  const shownGeneral =
    error instanceof ApiError && Object.keys(error.fieldErrors).length === 0 ? [error.message] : generalErrors;

  return (
    <Modal
      open={open}
      title={direction === "import" ? "Add source storage" : "Add target storage"}
      onClose={onClose}
    >
      <form
        ref={form}
        aria-label="Storage connection"
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          void run("save");
        }}
      >
        <Select
          label="Storage type"
          value={type}
          onChange={(event) => {
            const next = event.target.value as StorageType;
            setType(next);
            setValues(initialValues(next, direction));
            setError(null);
          }}
          options={types.map((info) => ({ value: info.name, label: info.title }))}
        />
        <TextInput
          label="Storage title"
          value={String(values.title ?? "")}
          onChange={(event) => setValues({ ...values, title: event.target.value })}
          errors={fieldErrors.title}
        />
        {fields.map((field) => {
          const value = values[field.name];
          const update = (next: unknown) => setValues({ ...values, [field.name]: next });
          if (field.kind === "checkbox") {
            return (
              <Checkbox
                key={field.name}
                label={field.label}
                hint={field.hint}
                checked={Boolean(value)}
                onChange={(event) => update(event.target.checked)}
              />
            );
          }
          if (field.kind === "textarea") {
            return (
              <TextArea
                key={field.name}
                label={field.label}
                hint={field.hint}
                rows={4}
                value={String(value ?? "")}
                onChange={(event) => update(event.target.value)}
                errors={fieldErrors[field.name]}
              />
            );
          }
          return (
            <TextInput
              key={field.name}
              label={field.label}
              hint={field.hint}
              type={field.kind}
              required={field.required}
              autoComplete={field.kind === "password" ? "new-password" : "off"}
              value={String(value ?? "")}
              onChange={(event) => update(event.target.value)}
              errors={fieldErrors[field.name]}
            />
          );
        })}
        <ErrorList error={shownGeneral} title="The storage is not reachable with these settings" />
        {checked && <div className="notice notice-success" role="status">Connection works.</div>}
        <div className="button-row" style={{ justifyContent: "flex-end" }}>
          <Button onClick={onClose}>Cancel</Button>
          <Button busy={busy === "check"} disabled={busy !== null} onClick={() => void run("check")}>
            Check connection
          </Button>
          <Button type="submit" variant="primary" busy={busy === "save"} disabled={busy !== null}>
            Add storage
          </Button>
        </div>
      </form>
    </Modal>
  );
}

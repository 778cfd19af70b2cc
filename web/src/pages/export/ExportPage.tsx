/**
 * Export: pick a format the project's labeling config fits (the others are greyed with
 * why), download it now (the server streams it), or make a snapshot in the background,
 * follow its progress, and download or delete it later.
 */
import { useCallback, useEffect, useState } from "react";

import {
  createSnapshot,
  deleteSnapshot,
  downloadNowUrl,
  isRunning,
  listFormats,
  listSnapshots,
  snapshotDownloadUrl,
  type ExportFormat,
  type Snapshot,
} from "../../api/exports";
import { useProject } from "../../layout";
import {
  Button,
  Checkbox,
  ConfirmDialog,
  EmptyState,
  ErrorList,
  formatDateTime,
  ListTable,
  LoadingBlock,
  TextInput,
} from "../../ui";
import "./export.css";

const POLL_MS = 1500;

function statusLabel(snapshot: Snapshot): string {
  switch (snapshot.status) {
    case "created":
      return "queued";
    case "in_progress":
      return "in progress";
    default:
      return snapshot.status;
  }
}

function statusBadge(snapshot: Snapshot): string {
  if (snapshot.status === "completed") return "badge badge-success";
  if (snapshot.status === "failed") return "badge badge-danger";
  return "badge badge-info";
}

export default function ExportPage() {
  const { project } = useProject();
  const [formats, setFormats] = useState<ExportFormat[] | null>(null);
  const [formatsError, setFormatsError] = useState<unknown>(null);
  const [chosen, setChosen] = useState("JSON");
  const [allTasks, setAllTasks] = useState(false);
  const [snapshots, setSnapshots] = useState<Snapshot[] | null>(null);
  const [snapshotsError, setSnapshotsError] = useState<unknown>(null);
  const [title, setTitle] = useState("");
  const [creating, setCreating] = useState(false);
  const [createError, setCreateError] = useState<unknown>(null);
  const [deleting, setDeleting] = useState<Snapshot | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    listFormats(project.id, controller.signal)
      .then((found) => {
        setFormats(found);
        const usable = found.filter((format) => !format.disabled);
        if (usable.length > 0 && !usable.some((format) => format.name === "JSON")) setChosen(usable[0].name);
      })
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setFormatsError(caught);
      });
    return () => controller.abort();
  }, [project.id]);

  const loadSnapshots = useCallback(
    async (signal?: AbortSignal) => {
      try {
        setSnapshots(await listSnapshots(project.id, signal));
        setSnapshotsError(null);
      } catch (caught) {
        if (!signal?.aborted) setSnapshotsError(caught);
      }
    },
    [project.id],
  );

  useEffect(() => {
    const controller = new AbortController();
    void loadSnapshots(controller.signal);
    return () => controller.abort();
  }, [loadSnapshots]);

  // While a snapshot is being made, its row follows the server's status.
  const anyRunning = snapshots?.some(isRunning) ?? false;
  useEffect(() => {
    if (!anyRunning) return;
    const controller = new AbortController();
    const timer = window.setInterval(() => void loadSnapshots(controller.signal), POLL_MS);
    return () => {
      window.clearInterval(timer);
      controller.abort();
    };
  }, [anyRunning, loadSnapshots]);

  const create = async () => {
    setCreating(true);
    setCreateError(null);
    try {
      const made = await createSnapshot(project.id, { title: title.trim(), onlyWithAnnotations: !allTasks });
      setSnapshots((current) => [made, ...(current ?? []).filter((snapshot) => snapshot.id !== made.id)]);
      setTitle("");
    } catch (caught) {
      setCreateError(caught);
    } finally {
      setCreating(false);
    }
  };

  const chosenFormat = formats?.find((format) => format.name === chosen);
  const canDownload = !!chosenFormat && !chosenFormat.disabled;

  return (
    <main className="page page-narrow export-page">
      <div className="page-header">
        <h1>Export</h1>
      </div>

      <section className="card">
        <h2 className="section-title">Format</h2>
        <ErrorList error={formatsError} title="Could not load the export formats" />
        {!formats && !formatsError && <LoadingBlock label="Loading formats…" />}
        {formats && (
          <fieldset className="export-formats">
            <legend className="visually-hidden">Export format</legend>
            {formats.map((format) => (
              <label
                key={format.name}
                className={`export-format${format.disabled ? " export-format-disabled" : ""}${
                  format.name === chosen ? " export-format-chosen" : ""
                }`}
              >
                <input
                  type="radio"
                  name="export-format"
                  value={format.name}
                  checked={format.name === chosen}
                  disabled={format.disabled}
                  onChange={() => setChosen(format.name)}
                  aria-describedby={`format-${format.name}-text`}
                />
                <span className="export-format-text">
                  <strong>{format.title || format.name}</strong>
                  <span id={`format-${format.name}-text`} className="muted">
                    {format.disabled
                      ? "Not available: this project's labeling config has no tags this format can export."
                      : (format.tags ?? []).join(", ")}
                  </span>
                </span>
              </label>
            ))}
          </fieldset>
        )}
        <Checkbox
          label="Include tasks without annotations"
          checked={allTasks}
          onChange={(event) => setAllTasks(event.target.checked)}
        />
        <div className="button-row">
          {canDownload ? (
            <a className="btn btn-primary" href={downloadNowUrl(project.id, chosen, allTasks)} download>
              Download now
            </a>
          ) : (
            <Button variant="primary" disabled>
              Download now
            </Button>
          )}
          <span className="muted">The file is written while it downloads; large projects take a while.</span>
        </div>
      </section>

      <section className="card">
        <h2 className="section-title">Snapshots</h2>
        <p className="muted">
          A snapshot is made in the background and kept, so it can be downloaded later in any of the formats above.
        </p>
        <div className="export-create">
          <TextInput
            label="Snapshot title"
            value={title}
            placeholder="optional"
            onChange={(event) => setTitle(event.target.value)}
          />
          <Button variant="primary" busy={creating} onClick={create}>
            Create snapshot
          </Button>
        </div>
        <ErrorList error={createError} title="The snapshot could not be created" />
        <ErrorList error={snapshotsError} title="Could not load the snapshots" />
        {snapshots && snapshots.length === 0 && <EmptyState title="No snapshots yet" />}
        {snapshots && snapshots.length > 0 && (
          <ListTable label="Snapshots" columns={["Snapshot", "Status", "Tasks", "Created"]}>
            {snapshots.map((snapshot) => (
              <tr key={snapshot.id}>
                <td>
                  {snapshot.title || `Snapshot ${snapshot.id}`}
                  {snapshot.created_by?.email ? <div className="muted">{snapshot.created_by.email}</div> : null}
                </td>
                <td>
                  <span className={statusBadge(snapshot)} aria-label={`Status of snapshot ${snapshot.id}`}>
                    {statusLabel(snapshot)}
                  </span>
                </td>
                <td>{snapshot.counters.task_number?.toLocaleString() ?? "—"}</td>
                <td>{formatDateTime(snapshot.created_at)}</td>
                <td className="export-row-actions">
                  {snapshot.status === "completed" && canDownload ? (
                    <a
                      className="btn btn-small btn-secondary"
                      href={snapshotDownloadUrl(project.id, snapshot.id, chosen)}
                      download
                      aria-label={`Download snapshot ${snapshot.id} as ${chosen}`}
                    >
                      Download {chosen}
                    </a>
                  ) : null}
                  <Button
                    size="small"
                    variant="ghost"
                    aria-label={`Delete snapshot ${snapshot.id}`}
                    onClick={() => setDeleting(snapshot)}
                  >
                    Delete
                  </Button>
                </td>
              </tr>
            ))}
          </ListTable>
        )}
      </section>

      <ConfirmDialog
        open={deleting !== null}
        title="Delete snapshot"
        confirmLabel="Delete snapshot"
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await deleteSnapshot(project.id, deleting.id);
          setSnapshots((current) => (current ?? []).filter((snapshot) => snapshot.id !== deleting.id));
          setDeleting(null);
        }}
      >
        <p>The snapshot “{deleting?.title || `Snapshot ${deleting?.id}`}” and its files are removed.</p>
      </ConfirmDialog>
    </main>
  );
}

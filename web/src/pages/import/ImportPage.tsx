/**
 * Import: files dropped or chosen (multipart), text pasted as JSON/CSV/TSV (a raw body
 * with its media type), or a URL. Upload progress comes from the request itself; a large
 * import is answered with a job id, which the page follows until it finishes. The result
 * shows what was created, or the server's errors (which name the item at fault).
 */
import { useRef, useState } from "react";
import { Link } from "react-router-dom";

import {
  importFiles,
  importText,
  importUrl,
  isQueued,
  PASTE_TYPES,
  pollImport,
  type ImportAnswer,
  type ImportJob,
  type ImportResult,
  type PasteFormat,
  type UploadProgress,
} from "../../api/imports";
import { useProject } from "../../layout";
import { Button, ErrorList, ProgressBar, Select, Tabs, TextArea, TextInput } from "../../ui";
import "./import.css";

type Source = "files" | "paste" | "url";

type Phase =
  | { kind: "idle" }
  | { kind: "uploading"; progress: UploadProgress }
  | { kind: "processing"; job: ImportJob | null }
  /** `jobId` when the server ran the import as a background job. */
  | { kind: "done"; result: ImportResult | ImportJob; jobId?: number }
  | { kind: "failed"; error: unknown };

const ACCEPTED = ".json,.jsonl,.csv,.tsv,.txt,.html,.htm,.xml,.png,.jpg,.jpeg,.gif,.bmp,.svg,.webp,.wav,.mp3,.flac,.m4a,.ogg,.mp4,.webm,.pdf";

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A guess of the pasted text's format, so the right media type goes with it. */
function guessFormat(text: string): PasteFormat {
  const start = text.trimStart();
  if (start.startsWith("[") || (start.startsWith("{") && !start.includes("\n{"))) return "JSON";
  if (start.startsWith("{")) return "JSONL";
  const firstLine = start.split("\n", 1)[0] ?? "";
  if (firstLine.includes("\t")) return "TSV";
  if (firstLine.includes(",")) return "CSV";
  return "Text";
}

export default function ImportPage() {
  const { project, reload } = useProject();
  const [source, setSource] = useState<Source>("files");
  const [files, setFiles] = useState<File[]>([]);
  const [dragging, setDragging] = useState(false);
  const [pasted, setPasted] = useState("");
  const [format, setFormat] = useState<PasteFormat | "auto">("auto");
  const [url, setUrl] = useState("");
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });
  const fileInput = useRef<HTMLInputElement>(null);
  const running = useRef<AbortController | null>(null);

  const busy = phase.kind === "uploading" || phase.kind === "processing";

  const addFiles = (list: FileList | null) => {
    if (!list) return;
    setFiles((current) => [...current, ...Array.from(list)]);
  };

  const start = async (send: (onProgress: (progress: UploadProgress) => void, signal: AbortSignal) => Promise<ImportAnswer>) => {
    const controller = new AbortController();
    running.current = controller;
    setPhase({ kind: "uploading", progress: { loaded: 0, total: 0 } });
    try {
      const answer = await send((progress) => setPhase({ kind: "uploading", progress }), controller.signal);
      let result: ImportResult | ImportJob;
      let jobId: number | undefined;
      if (isQueued(answer)) {
        jobId = answer.import;
        setPhase({ kind: "processing", job: null });
        const job = await pollImport(project.id, answer.import, (seen) => setPhase({ kind: "processing", job: seen }), controller.signal);
        if (job.status === "failed") {
          setPhase({ kind: "failed", error: new Error(job.error || "The import failed.") });
          return;
        }
        result = job;
      } else {
        setPhase({ kind: "processing", job: null });
        result = answer;
      }
      setPhase({ kind: "done", result, jobId });
      setFiles([]);
      setPasted("");
      void reload().catch(() => undefined);
    } catch (caught) {
      setPhase({ kind: "failed", error: caught });
    } finally {
      running.current = null;
    }
  };

  const submit = () => {
    if (source === "files") {
      if (files.length === 0) return;
      void start((onProgress, signal) => importFiles(project.id, files, onProgress, signal));
    } else if (source === "paste") {
      if (!pasted.trim()) return;
      const chosen = format === "auto" ? guessFormat(pasted) : format;
      void start((onProgress, signal) => importText(project.id, pasted, chosen, onProgress, signal));
    } else {
      if (!url.trim()) return;
      void start((_onProgress, signal) => importUrl(project.id, url.trim(), signal));
    }
  };

  const ready = source === "files" ? files.length > 0 : source === "paste" ? pasted.trim() !== "" : url.trim() !== "";

  return (
    <main className="page page-narrow import-page">
      <div className="page-header">
        <h1>Import tasks</h1>
      </div>
      <Tabs
        label="Import source"
        active={source}
        onChange={(id) => setSource(id as Source)}
        tabs={[
          { id: "files", label: "Upload files" },
          { id: "paste", label: "Paste data" },
          { id: "url", label: "From URL" },
        ]}
      />

      <section className="card import-source" role="tabpanel" aria-labelledby={`tab-${source}`}>
        {source === "files" && (
          <>
            <div
              className={`import-drop${dragging ? " import-drop-active" : ""}`}
              onDragOver={(event) => {
                event.preventDefault();
                setDragging(true);
              }}
              onDragLeave={() => setDragging(false)}
              onDrop={(event) => {
                event.preventDefault();
                setDragging(false);
                addFiles(event.dataTransfer.files);
              }}
            >
              <p>
                <strong>Drop files here</strong> or{" "}
                <button type="button" className="import-browse" onClick={() => fileInput.current?.click()}>
                  browse
                </button>
              </p>
              <p className="muted">
                JSON, JSONL, CSV, TSV, TXT, HTML; images, audio, video and PDF become one task each.
              </p>
              <label className="visually-hidden" htmlFor="import-files">
                Files to import
              </label>
              <input
                id="import-files"
                ref={fileInput}
                type="file"
                multiple
                accept={ACCEPTED}
                className="visually-hidden"
                onChange={(event) => {
                  addFiles(event.target.files);
                  event.target.value = "";
                }}
              />
            </div>
            {files.length > 0 && (
              <ul className="import-files" aria-label="Chosen files">
                {files.map((file, index) => (
                  <li key={`${file.name}-${index}`}>
                    <span>{file.name}</span>
                    <span className="muted">{formatBytes(file.size)}</span>
                    <Button
                      size="small"
                      variant="ghost"
                      aria-label={`Remove ${file.name}`}
                      disabled={busy}
                      onClick={() => setFiles((current) => current.filter((_, position) => position !== index))}
                    >
                      ×
                    </Button>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
        {source === "paste" && (
          <>
            <TextArea
              label="Tasks to import"
              hint='A JSON list of tasks ([{"text": "..."}]), JSON lines, or CSV/TSV with a header row.'
              rows={10}
              value={pasted}
              spellCheck={false}
              onChange={(event) => setPasted(event.target.value)}
            />
            <Select
              label="Format"
              value={format}
              onChange={(event) => setFormat(event.target.value as PasteFormat | "auto")}
              options={[
                { value: "auto", label: "Detect from the text" },
                ...Object.keys(PASTE_TYPES).map((name) => ({ value: name, label: name })),
              ]}
            />
          </>
        )}
        {source === "url" && (
          <TextInput
            label="URL"
            type="url"
            placeholder="https://example.com/tasks.json"
            hint="The server decides which URLs it may fetch; its answer is shown below."
            value={url}
            onChange={(event) => setUrl(event.target.value)}
          />
        )}
        <div className="button-row">
          <Button variant="primary" disabled={!ready} busy={busy} onClick={submit}>
            Import
          </Button>
          {phase.kind === "uploading" && <Button onClick={() => running.current?.abort()}>Cancel upload</Button>}
          {phase.kind === "processing" && (
            <Button
              onClick={() => running.current?.abort()}
              title="The server finishes the import; the data manager shows the tasks as they arrive."
            >
              Stop waiting
            </Button>
          )}
        </div>
      </section>

      <section className="import-status" aria-live="polite">
        {phase.kind === "uploading" && (
          <div>
            <p>
              Uploading…{" "}
              {phase.progress.total > 0
                ? `${formatBytes(phase.progress.loaded)} of ${formatBytes(phase.progress.total)}`
                : ""}
            </p>
            <ProgressBar label="Upload progress" done={phase.progress.loaded} total={phase.progress.total || 1} />
          </div>
        )}
        {phase.kind === "processing" && (
          <div>
            <p>
              Creating tasks…
              {phase.job?.total ? ` ${(phase.job.progress ?? 0).toLocaleString()} of ${phase.job.total.toLocaleString()}` : ""}
            </p>
            {phase.job?.total ? (
              <ProgressBar label="Import progress" done={phase.job.progress ?? 0} total={phase.job.total} />
            ) : (
              <progress className="import-indeterminate" aria-label="Import progress" />
            )}
            {phase.job && <p className="muted">Import {phase.job.id}: {phase.job.status.replace("_", " ")}</p>}
          </div>
        )}
        {phase.kind === "done" && (
          <div className="notice notice-success" role="status" aria-label="Import result">
            <p>
              <strong>
                Imported {phase.result.task_count.toLocaleString()} task{phase.result.task_count === 1 ? "" : "s"}
              </strong>
              {(phase.result.annotation_count ?? 0) > 0 && `, ${(phase.result.annotation_count ?? 0).toLocaleString()} annotations`}
              {(phase.result.prediction_count ?? 0) > 0 && `, ${(phase.result.prediction_count ?? 0).toLocaleString()} predictions`}
              {phase.result.duration !== null ? ` in ${phase.result.duration.toFixed(2)} s` : ""}.
            </p>
            {phase.jobId !== undefined && (
              <p className="muted">The import was large, so it ran in the background as import job {phase.jobId}.</p>
            )}
            {phase.result.data_columns.length > 0 && (
              <p className="muted">Data columns: {phase.result.data_columns.join(", ")}</p>
            )}
            <div className="button-row">
              <Link className="btn btn-primary" to={`/projects/${project.id}/data`}>
                Go to the data manager
              </Link>
              <Link className="btn btn-secondary" to={`/projects/${project.id}/label`}>
                Start labeling
              </Link>
            </div>
          </div>
        )}
        {phase.kind === "failed" && <ErrorList error={phase.error} title="The import failed" />}
      </section>
    </main>
  );
}

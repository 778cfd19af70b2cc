/**
 * Importing tasks (`POST /api/projects/:id/import`): files as multipart, pasted text as a
 * raw body with its media type, or `url=`. Uploads go through XMLHttpRequest so the page
 * can show upload progress; a large import answers `{"import": id}` and runs as a job,
 * which `pollImport` follows until it finishes.
 *
 * The answers' types are generated from task-svc's OpenAPI document (`./types.ts`).
 */
import { ApiError, api, type LabelStudioErrorBody } from "./client";
import type { ImportJob, ImportQueued, ImportResult } from "./types";

export type { ImportJob, ImportQueued, ImportResult } from "./types";

/** The synchronous answer, or `{import: id}` of a large import that runs as a job. */
export type ImportAnswer = ImportResult | ImportQueued;

export function isQueued(answer: ImportAnswer): answer is ImportQueued {
  return typeof (answer as { import?: unknown }).import === "number";
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

/** The media types of pasted text, keyed by the format names the page offers. */
export const PASTE_TYPES = {
  JSON: "application/json",
  JSONL: "application/x-ndjson",
  CSV: "text/csv",
  TSV: "text/tab-separated-values",
  Text: "text/plain",
} as const;

export type PasteFormat = keyof typeof PASTE_TYPES;

function csrfToken(): string {
  const match = document.cookie.split("; ").find((part) => part.startsWith("csrftoken="));
  return match ? decodeURIComponent(match.slice("csrftoken=".length)) : "";
}

function send(
  projectId: number,
  body: XMLHttpRequestBodyInit,
  contentType: string | null,
  onProgress?: (progress: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<ImportAnswer> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `/api/projects/${projectId}/import`);
    request.withCredentials = true;
    request.setRequestHeader("Accept", "application/json");
    if (contentType) request.setRequestHeader("Content-Type", contentType);
    const csrf = csrfToken();
    if (csrf) request.setRequestHeader("X-CSRFToken", csrf);
    if (onProgress) {
      request.upload.onprogress = (event) =>
        onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : 0 });
    }
    request.onload = () => {
      let parsed: unknown = null;
      try {
        parsed = request.responseText ? JSON.parse(request.responseText) : null;
      } catch {
        parsed = null;
      }
      if (request.status >= 200 && request.status < 300) {
        resolve(parsed as ImportAnswer);
      } else {
        reject(
          new ApiError(
            request.status,
            parsed as LabelStudioErrorBody | null,
            `The import failed (${request.status}).`,
          ),
        );
      }
    };
    request.onerror = () => reject(new Error("The import could not reach the server."));
    request.onabort = () => reject(new DOMException("The import was cancelled.", "AbortError"));
    signal?.addEventListener("abort", () => request.abort());
    request.send(body);
  });
}

export function importFiles(
  projectId: number,
  files: File[],
  onProgress?: (progress: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<ImportAnswer> {
  const form = new FormData();
  for (const file of files) form.append(file.name, file, file.name);
  return send(projectId, form, null, onProgress, signal);
}

export function importText(
  projectId: number,
  text: string,
  format: PasteFormat,
  onProgress?: (progress: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<ImportAnswer> {
  return send(projectId, text, PASTE_TYPES[format], onProgress, signal);
}

export function importUrl(projectId: number, url: string, signal?: AbortSignal): Promise<ImportAnswer> {
  const form = new URLSearchParams({ url });
  return send(projectId, form.toString(), "application/x-www-form-urlencoded", undefined, signal);
}

export function getImport(projectId: number, importId: number, signal?: AbortSignal): Promise<ImportJob> {
  return api<ImportJob>(`/api/projects/${projectId}/imports/${importId}`, { signal });
}

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = window.setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      window.clearTimeout(timer);
      reject(new DOMException("Polling stopped.", "AbortError"));
    });
  });
}

/** Follows a queued import until it completes or fails, reporting each state seen. */
export async function pollImport(
  projectId: number,
  importId: number,
  onUpdate: (job: ImportJob) => void,
  signal?: AbortSignal,
): Promise<ImportJob> {
  let delay = 500;
  for (;;) {
    const job = await getImport(projectId, importId, signal);
    onUpdate(job);
    if (job.status === "completed" || job.status === "failed") return job;
    await wait(delay, signal);
    delay = Math.min(delay * 1.5, 3000);
  }
}

/**
 * Annotations, skips and drafts of a task, as the labeling screen saves them
 * (Label Studio's endpoints: `/api/tasks/:id/annotations`, `/api/annotations/:id`,
 * `/api/tasks/:id/drafts`, `/api/drafts/:id`).
 *
 * The answers' types are generated from task-svc's OpenAPI document (`./types.ts`); the
 * bodies the labeling screen sends are written here.
 */
import { api } from "./client";
import type { Annotation, DraftDetail, ResultItem } from "./types";

export interface AnnotationBody {
  result: ResultItem[];
  lead_time?: number;
  draft_id?: number | null;
  parent_prediction?: number | null;
  parent_annotation?: number | null;
  was_cancelled?: boolean;
}

export function createAnnotation(taskId: number, body: AnnotationBody): Promise<Annotation> {
  return api<Annotation>(`/api/tasks/${taskId}/annotations`, { method: "POST", body });
}

/** A skip is an annotation with `was_cancelled`, as Label Studio records it. */
export function skipTask(taskId: number, body: AnnotationBody): Promise<Annotation> {
  return api<Annotation>(`/api/tasks/${taskId}/annotations`, {
    method: "POST",
    query: { was_cancelled: 1 },
    body: { ...body, was_cancelled: true },
  });
}

export function updateAnnotation(
  annotationId: number,
  body: Partial<AnnotationBody>,
): Promise<Annotation> {
  return api<Annotation>(`/api/annotations/${annotationId}`, { method: "PATCH", body });
}

export function deleteAnnotation(annotationId: number): Promise<void> {
  return api<void>(`/api/annotations/${annotationId}`, { method: "DELETE" });
}

export interface DraftBody {
  result: ResultItem[];
  lead_time?: number;
}

/** A new draft of the task, or of one of its annotations when `annotationId` is given. */
export function createDraft(
  taskId: number,
  body: DraftBody,
  annotationId?: number | null,
): Promise<DraftDetail> {
  const path = annotationId
    ? `/api/tasks/${taskId}/annotations/${annotationId}/drafts`
    : `/api/tasks/${taskId}/drafts`;
  return api<DraftDetail>(path, { method: "POST", body });
}

export function updateDraft(draftId: number, body: DraftBody): Promise<DraftDetail> {
  return api<DraftDetail>(`/api/drafts/${draftId}`, { method: "PATCH", body });
}

export function deleteDraft(draftId: number): Promise<void> {
  return api<void>(`/api/drafts/${draftId}`, { method: "DELETE" });
}

function csrfToken(): string {
  const match = document.cookie.split("; ").find((part) => part.startsWith("csrftoken="));
  return match ? decodeURIComponent(match.slice("csrftoken=".length)) : "";
}

/**
 * Saves the draft while the page is being left: a `keepalive` request outlives the
 * document, which an ordinary fetch started in `pagehide` does not. Without a draft id
 * yet, a new draft of the task is created.
 */
export function saveDraftOnLeave(taskId: number, draftId: number | null, body: DraftBody): void {
  void fetch(draftId ? `/api/drafts/${draftId}` : `/api/tasks/${taskId}/drafts`, {
    method: draftId ? "PATCH" : "POST",
    keepalive: true,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  }).catch(() => undefined);
}

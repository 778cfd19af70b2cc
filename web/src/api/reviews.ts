/**
 * Annotation reviews (Label Studio Enterprise's `/api/annotation-reviews/`) and the review
 * stream (`/api/projects/:id/next-review/`).
 *
 * The answers' types are generated from task-svc's OpenAPI document (`./types.ts`); the
 * bodies the review page sends are written here.
 */
import { ApiError, api } from "./client";
import type { NextReview, Review, ResultItem } from "./types";

export type { NextReview, Review } from "./types";

export interface ReviewBody {
  annotation: number;
  accepted: boolean;
  /** Required when `accepted` is false: the reason the annotator sees. */
  comment?: string;
  /** Fix and accept: the corrected result replaces the annotation's. */
  result?: ResultItem[];
}

/** The caller's next annotation to review, or `null` when none is left (a 404). */
export async function nextReview(projectId: number, signal?: AbortSignal): Promise<NextReview | null> {
  try {
    return await api<NextReview>(`/api/projects/${projectId}/next-review`, { signal });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export function createReview(body: ReviewBody): Promise<Review> {
  return api<Review>("/api/annotation-reviews", { method: "POST", body });
}

/** An annotation's reviews, oldest first. */
export function annotationReviews(annotationId: number, signal?: AbortSignal): Promise<Review[]> {
  return api<Review[]>("/api/annotation-reviews", { signal, query: { annotation: annotationId } });
}

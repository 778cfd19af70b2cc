/**
 * Tasks as task-svc returns them (Label Studio's shapes): the full task of
 * `GET /api/tasks/:id`, and the data manager's rows of `GET /api/tasks`.
 *
 * Written by hand for now: they are generated from task-svc's OpenAPI document (as
 * `./types.ts` is from the others) once task-svc's routes declare their answers.
 */
import { ApiError, api } from "./client";

/** One region or classification of an annotation or prediction; its shape is the editor's. */
export type ResultItem = Record<string, unknown>;

export interface Annotation {
  id: number;
  result: ResultItem[];
  task: number;
  project: number;
  completed_by: number | { id: number; email?: string; first_name?: string; last_name?: string } | null;
  was_cancelled: boolean;
  ground_truth: boolean;
  created_at: string | null;
  updated_at: string | null;
  lead_time: number | null;
}

export interface Prediction {
  id: number;
  task: number;
  result: ResultItem[];
  score: number | null;
  model_version: string;
  created_at: string | null;
}

export interface Draft {
  id: number;
  result: ResultItem[];
  lead_time: number | null;
  task: number;
  annotation: number | null;
  user: number;
  was_postponed: boolean;
  created_at: string | null;
  updated_at: string | null;
}

export type TaskData = Record<string, unknown>;

export interface Task {
  id: number;
  data: TaskData;
  meta: Record<string, unknown>;
  project: number;
  created_at: string | null;
  updated_at: string | null;
  is_labeled: boolean;
  inner_id: number | null;
  total_annotations: number;
  cancelled_annotations: number;
  total_predictions: number;
  annotations: Annotation[];
  predictions: Prediction[];
  drafts: Draft[];
}

/** The label stream's answer: the task without annotations, with the caller's drafts. */
export interface StreamTask extends Task {
  unique_lock_id?: string;
  queue?: string;
}

export function getTask(taskId: number, signal?: AbortSignal): Promise<Task> {
  return api<Task>(`/api/tasks/${taskId}`, { signal });
}

/** Data manager filters and ordering that narrow the label stream (Label Studio's shapes). */
export interface StreamSelection {
  filters?: unknown;
  ordering?: string[];
}

/**
 * The caller's next task of the project, or `null` when the stream is empty (a 404);
 * with a selection, only among the tasks the data manager's filters show, in its order.
 */
export async function nextTask(
  projectId: number,
  signal?: AbortSignal,
  selection?: StreamSelection,
): Promise<StreamTask | null> {
  const narrowed = selection && (selection.filters || (selection.ordering && selection.ordering.length > 0));
  try {
    return await api<StreamTask>(`/api/projects/${projectId}/next`, {
      signal,
      query: narrowed ? { query: JSON.stringify(selection) } : undefined,
    });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

/** A data manager row (`fields=all`): the task, its counters and the computed columns. */
export interface TaskRow {
  id: number;
  data: TaskData;
  inner_id: number | null;
  created_at: string | null;
  updated_at: string | null;
  completed_at?: string | null;
  total_annotations: number;
  cancelled_annotations: number;
  total_predictions: number;
  annotators: number[];
  annotations_results: string;
  predictions_results: string;
  annotations_ids: string;
  predictions_model_versions: string;
  predictions_score?: number | null;
  avg_lead_time?: number | null;
  file_upload: string | null;
  storage_filename: string | null;
  draft_exists?: boolean;
  annotations?: Annotation[];
  predictions?: Prediction[];
  [column: string]: unknown;
}

export interface TaskPage {
  tasks: TaskRow[];
  total: number;
  total_annotations: number;
  total_predictions: number;
}

/**
 * Tasks as task-svc returns them (Label Studio's shapes): the full task of
 * `GET /api/tasks/:id`, and the data manager's rows of `GET /api/tasks`.
 *
 * Their types are generated from task-svc's OpenAPI document (`./types.ts`).
 */
import { ApiError, api } from "./client";
import type { StreamTask, Task } from "./types";

export type {
  Annotation,
  Draft,
  Prediction,
  ResultItem,
  StreamTask,
  Task,
  TaskData,
  TaskPage,
  TaskRow,
} from "./types";

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

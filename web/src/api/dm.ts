/**
 * The data manager API (`/api/dm/*`, `GET /api/tasks`): columns, saved views (tabs),
 * filters and ordering in Label Studio's shapes, and bulk actions on a selection.
 * The answers' types are generated from task-svc's OpenAPI document (`./types.ts`); the
 * view data, filters and selection the app builds are written here.
 */
import { api } from "./client";
import type { Action, ActionResult, Column, TaskPage, ViewAnswer } from "./types";

export type { Action, ActionResult, Column } from "./types";

/** `"tasks:<id>"` for a task column, `"tasks:data.<key>"` for a data column. */
export function columnKey(column: Column): string {
  return column.parent ? `tasks:${column.parent}.${column.id}` : `tasks:${column.id}`;
}

export async function listColumns(projectId: number, signal?: AbortSignal): Promise<Column[]> {
  const answer = await api<{ columns: Column[] }>("/api/dm/columns", { query: { project: projectId }, signal });
  return answer.columns;
}

export type FilterValue = string | number | boolean | { min: number | string; max: number | string } | null;

export interface FilterItem {
  /** `filter:tasks:<column>`, e.g. `filter:tasks:data.text`. */
  filter: string;
  operator: string;
  type: string;
  value: FilterValue;
}

export interface Filters {
  conjunction: "and" | "or";
  items: FilterItem[];
}

export interface SelectedItems {
  all: boolean;
  included?: number[];
  excluded?: number[];
}

export interface ViewData {
  title?: string;
  filters?: Filters;
  ordering?: string[];
  hiddenColumns?: { explore?: string[]; labeling?: string[] };
  selectedItems?: SelectedItems;
  [key: string]: unknown;
}

/** A saved view (a tab), its `data` read as the app writes it. */
export type View = Omit<ViewAnswer, "data"> & { data: ViewData };

export function listViews(projectId: number, signal?: AbortSignal): Promise<View[]> {
  return api<View[]>("/api/dm/views", { query: { project: projectId }, signal });
}

export function createView(projectId: number, data: ViewData): Promise<View> {
  return api<View>("/api/dm/views", { method: "POST", body: { project: projectId, data } });
}

/** PATCH replaces the view's `data` as a whole, as Label Studio does. */
export function updateView(view: View, data: ViewData): Promise<View> {
  return api<View>(`/api/dm/views/${view.id}`, {
    method: "PATCH",
    body: { project: view.project, data },
  });
}

export function deleteView(viewId: number): Promise<void> {
  return api<void>(`/api/dm/views/${viewId}`, { method: "DELETE" });
}

export interface TaskQuery {
  filters?: Filters;
  ordering?: string[];
}

/** Only items with a value filter anything; the server skips null values the same way. */
export function activeFilters(filters: Filters | undefined): Filters | undefined {
  if (!filters) return undefined;
  const items = filters.items.filter((item) => item.value !== null && item.value !== "");
  return items.length > 0 ? { conjunction: filters.conjunction, items } : undefined;
}

/** One page of the project's tasks under the filters and ordering; never the whole list. */
export function listTaskPage(
  projectId: number,
  page: number,
  pageSize: number,
  query: TaskQuery,
  signal?: AbortSignal,
): Promise<TaskPage> {
  const selection: TaskQuery = {};
  const filters = activeFilters(query.filters);
  if (filters) selection.filters = filters;
  if (query.ordering && query.ordering.length > 0) selection.ordering = query.ordering;
  return api<TaskPage>("/api/tasks", {
    query: {
      project: projectId,
      page,
      page_size: pageSize,
      fields: "all",
      query: JSON.stringify(selection),
    },
    signal,
  });
}

export function listActions(projectId: number, signal?: AbortSignal): Promise<Action[]> {
  return api<Action[]>("/api/dm/actions", { query: { project: projectId }, signal });
}

/** Runs an action on the selected tasks, under the same filters the table shows; `params`
 * carry what the action's dialog asked for (e.g. `type` and `users` of "Assign Tasks"). */
export function runAction(
  projectId: number,
  actionId: string,
  selectedItems: SelectedItems,
  query: TaskQuery,
  params: Record<string, unknown> = {},
): Promise<ActionResult> {
  const body: Record<string, unknown> = { ...params, project: projectId, selectedItems };
  const filters = activeFilters(query.filters);
  if (filters) body.filters = filters;
  if (query.ordering && query.ordering.length > 0) body.ordering = query.ordering;
  return api<ActionResult>("/api/dm/actions", {
    method: "POST",
    query: { id: actionId, project: projectId },
    body,
  });
}

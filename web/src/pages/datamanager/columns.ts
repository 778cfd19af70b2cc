/**
 * What the data manager knows about its columns beyond `/api/dm/columns`: which ones the
 * server can filter and order by, the operators each type offers, and how a filter's
 * typed text becomes the value Label Studio's filter API expects.
 */
import { columnKey, type Column, type FilterItem, type FilterValue } from "../../api/dm";

/** Task columns task-svc filters on (data.* columns are always filterable). */
const FILTERABLE = new Set([
  "id",
  "inner_id",
  "total_annotations",
  "cancelled_annotations",
  "total_predictions",
  "predictions_score",
  "created_at",
  "updated_at",
  "completed_at",
  "annotators",
  "ground_truth",
  "predictions_model_versions",
  "annotations_results",
  "predictions_results",
  "file_upload",
]);

/** Task columns task-svc orders by (data.* columns are always orderable). */
const ORDERABLE = new Set([
  "id",
  "inner_id",
  "total_annotations",
  "cancelled_annotations",
  "total_predictions",
  "predictions_score",
  "created_at",
  "updated_at",
  "completed_at",
  "annotators",
  "ground_truth",
  "predictions_model_versions",
  "file_upload",
]);

/** The columns a table shows: every column except the `data` group itself. */
export function tableColumns(columns: Column[]): Column[] {
  return columns.filter((column) => !(column.children && column.children.length > 0));
}

export function isDataColumn(column: Column): boolean {
  return column.parent === "data";
}

export function isFilterable(column: Column): boolean {
  return isDataColumn(column) || FILTERABLE.has(column.id);
}

export function isOrderable(column: Column): boolean {
  return isDataColumn(column) || ORDERABLE.has(column.id);
}

/** `data.text`, `total_annotations`: the name in filters and ordering after `tasks:`. */
export function columnPath(column: Column): string {
  return columnKey(column).slice("tasks:".length);
}

export function columnLabel(column: Column): string {
  return isDataColumn(column) ? `data.${column.title}` : column.title;
}

export type FilterKind = "Number" | "Datetime" | "Boolean" | "List" | "String";

/** The filter type Label Studio sends: data columns compare as text unless numeric. */
export function filterKind(column: Column): FilterKind {
  if (isDataColumn(column)) return column.type === "Number" ? "Number" : "String";
  if (column.type === "Number" || column.type === "Datetime" || column.type === "Boolean") return column.type;
  if (column.type === "List") return "List";
  return "String";
}

export const OPERATORS: Record<FilterKind, { value: string; label: string }[]> = {
  Number: [
    { value: "equal", label: "=" },
    { value: "not_equal", label: "≠" },
    { value: "less", label: "<" },
    { value: "greater", label: ">" },
    { value: "less_or_equal", label: "≤" },
    { value: "greater_or_equal", label: "≥" },
    { value: "empty", label: "is empty" },
  ],
  Datetime: [
    { value: "less", label: "before" },
    { value: "greater", label: "after" },
    { value: "empty", label: "is empty" },
  ],
  Boolean: [{ value: "equal", label: "is" }],
  List: [
    { value: "contains", label: "includes" },
    { value: "not_contains", label: "does not include" },
    { value: "empty", label: "is empty" },
  ],
  String: [
    { value: "contains", label: "contains" },
    { value: "not_contains", label: "does not contain" },
    { value: "equal", label: "equals" },
    { value: "not_equal", label: "does not equal" },
    { value: "empty", label: "is empty" },
  ],
};

/** A filter row as the page edits it: the text typed, turned into a value on the way out. */
export interface FilterRow {
  column: string;
  operator: string;
  text: string;
}

export function newFilterRow(column: Column): FilterRow {
  return { column: columnKey(column), operator: OPERATORS[filterKind(column)][0].value, text: "" };
}

/** The typed text as the API's value, or null while it is not a valid one (skipped). */
export function filterValue(kind: FilterKind, operator: string, text: string, column: Column): FilterValue {
  const trimmed = text.trim();
  if (operator === "empty" || kind === "Boolean") {
    return trimmed === "" ? null : trimmed === "true";
  }
  if (trimmed === "") return null;
  if (kind === "Number" || (kind === "List" && column.id === "annotators")) {
    const number = Number(trimmed);
    return Number.isFinite(number) ? number : null;
  }
  if (kind === "Datetime") {
    const date = new Date(trimmed);
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
  }
  return trimmed;
}

export function toFilterItem(row: FilterRow, column: Column): FilterItem {
  const kind = filterKind(column);
  return {
    filter: `filter:${row.column}`,
    operator: row.operator,
    type: kind,
    value: filterValue(kind, row.operator, row.text, column),
  };
}

/** Back from a saved filter item to the text the row shows. */
export function fromFilterItem(item: FilterItem): FilterRow {
  const column = item.filter.replace(/^filter:/, "");
  let text = "";
  if (typeof item.value === "boolean") text = item.value ? "true" : "false";
  else if (typeof item.value === "number" || typeof item.value === "string") text = String(item.value);
  if (typeof item.value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(item.value)) {
    const date = new Date(item.value);
    if (!Number.isNaN(date.getTime())) {
      const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
      text = local.toISOString().slice(0, 16);
    }
  }
  return { column, operator: item.operator, text };
}

/** The hidden columns of a fresh view: what the server says is not shown by default. */
export function defaultHidden(columns: Column[]): string[] {
  return tableColumns(columns)
    .filter((column) => column.visibility_defaults?.explore === false)
    .map(columnKey);
}

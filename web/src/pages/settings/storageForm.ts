/**
 * What the storage dialog sends: a create body, a PATCH of only what changed, a validate
 * body; and what a running sync has done so far. Kept apart from the components so each
 * rule (credentials never echoed, blanks keep saved secrets) is tested on its own.
 */
import { STORAGE_FIELDS } from "../../api/storages";
import type { Storage, StorageDirection, StorageField, StorageType } from "../../api/storages";

export type FormValues = Record<string, unknown>;

/** Fields every storage has besides its type's connection fields. */
const GENERAL_FIELDS = ["title", "description"] as const;

/** The connection fields of a type for a direction, in form order. */
export function fieldsFor(type: StorageType, direction: StorageDirection): StorageField[] {
  return (STORAGE_FIELDS[type] ?? []).filter((field) => !field.only || field.only === direction);
}

function defaultOf(field: StorageField, direction: StorageDirection): unknown {
  const given = direction === "export" && field.exportDefault !== undefined ? field.exportDefault : field.defaultValue;
  return given ?? (field.kind === "checkbox" ? false : "");
}

/** What a form value looks like for a stored value (inputs hold strings; checkboxes booleans). */
function asFormValue(field: StorageField, stored: unknown): unknown {
  if (field.kind === "checkbox") return Boolean(stored);
  if (stored === null || stored === undefined) return "";
  return typeof stored === "object" ? JSON.stringify(stored) : String(stored);
}

/**
 * The form's starting values: defaults for a new storage, or the storage's own values for
 * an edit, with every credential blank (the server never sends them back).
 */
export function initialValues(type: StorageType, direction: StorageDirection, storage?: Storage): FormValues {
  const values: FormValues = {};
  for (const name of GENERAL_FIELDS) values[name] = storage ? String(storage[name] ?? "") : "";
  for (const field of fieldsFor(type, direction)) {
    if (!storage) values[field.name] = defaultOf(field, direction);
    else if (field.secret) values[field.name] = "";
    else values[field.name] = asFormValue(field, storage[field.name]);
  }
  return values;
}

function sendable(field: StorageField | undefined, value: unknown): unknown {
  if (field?.kind === "number") return value === "" ? null : Number(value);
  if (typeof value === "string" && field?.kind !== "textarea" && field?.kind !== "password") return value.trim();
  return value;
}

/** A new storage: every field that has a value, numbers as numbers. */
export function createBody(
  type: StorageType,
  direction: StorageDirection,
  values: FormValues,
  projectId: number,
): FormValues {
  const fields = fieldsFor(type, direction);
  const body: FormValues = { project: projectId };
  for (const [name, value] of Object.entries(values)) {
    if (value === "" || value === undefined) continue;
    body[name] = sendable(
      fields.find((field) => field.name === name),
      value,
    );
  }
  return body;
}

/**
 * An edit: only the fields whose value differs from the storage as loaded. A credential is
 * sent only when something was typed into it, so a blank one keeps the saved secret.
 */
export function patchBody(
  type: StorageType,
  direction: StorageDirection,
  values: FormValues,
  storage: Storage,
): FormValues {
  const before = initialValues(type, direction, storage);
  const fields = fieldsFor(type, direction);
  const body: FormValues = {};
  for (const [name, value] of Object.entries(values)) {
    const field = fields.find((candidate) => candidate.name === name);
    if (field?.secret) {
      if (value !== "") body[name] = sendable(field, value);
      continue;
    }
    if (value !== before[name]) body[name] = sendable(field, value);
  }
  return body;
}

/**
 * A connection check. For a saved storage its `id` goes along, so the server fills the
 * credentials left blank from what it saved (Label Studio's validate does the same).
 */
export function validateBody(
  type: StorageType,
  direction: StorageDirection,
  values: FormValues,
  projectId: number,
  storage?: Storage,
): FormValues {
  const body = createBody(type, direction, values, projectId);
  if (storage) body.id = storage.id;
  return body;
}

export function isRunning(storage: Storage): boolean {
  return storage.status === "queued" || storage.status === "in_progress";
}

export interface SyncProgress {
  /** When the running sync started (`meta.time_in_progress`). */
  startedAt: string | null;
  /** Tasks (or files) written so far by this sync; null until the server reports progress. */
  created: number | null;
  /** Objects found already imported (or exported) so far by this sync. */
  existed: number | null;
}

function count(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

function time(value: unknown): number | null {
  if (typeof value !== "string") return null;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : parsed;
}

/**
 * How far a running sync is. Label Studio reports progress by updating `last_sync_count`
 * and `meta.tasks_existed` and stamping `meta.time_last_ping` as the sync goes; before the
 * first such ping (`time_last_ping` later than `time_in_progress`) those fields still hold
 * the previous sync's figures, so no counts are shown rather than stale ones.
 */
export function syncProgress(storage: Storage): SyncProgress {
  const meta = (storage.meta ?? {}) as Record<string, unknown>;
  const startedAt = typeof meta.time_in_progress === "string" ? meta.time_in_progress : null;
  const started = time(meta.time_in_progress);
  const pinged = time(meta.time_last_ping);
  const reported = storage.status === "in_progress" && started !== null && pinged !== null && pinged > started;
  return {
    startedAt,
    created: reported ? (count(storage.last_sync_count) ?? 0) : null,
    existed: reported ? (count(meta.tasks_existed) ?? 0) : null,
  };
}

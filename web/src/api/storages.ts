/**
 * Cloud storages (`/api/storages/<type>` for sources, `/api/storages/export/<type>` for
 * targets): connect a bucket or folder to a project, sync it, and see each sync's status.
 *
 * The shapes are Label Studio's (shared/contract, section 7): one list of fields per type,
 * from which the settings page builds its form.
 */
import { api } from "./client";
import type { components } from "./generated/storage-sync";

export type StorageDirection = "import" | "export";
export type StorageType = "s3" | "gcs" | "azure" | "redis" | "localfiles";

export type StorageStatus =
  | "initialized"
  | "queued"
  | "in_progress"
  | "failed"
  | "completed"
  | "completed_with_errors";

type Schemas = components["schemas"];

/**
 * A storage as the server answers it: the fields every type shares, typed from storage-sync's
 * OpenAPI document, plus its type's own connection fields (credentials masked or absent).
 * `type` and `status` are narrowed to the contract's values.
 */
export type Storage = Schemas["AnyStorageAnswer"] & { type: StorageType; status: StorageStatus };

export type StorageTypeInfo = Schemas["StorageTypeAnswer"] & { name: StorageType };

/** One connection field of a storage form. */
export interface StorageField {
  name: string;
  label: string;
  kind: "text" | "password" | "number" | "checkbox" | "textarea";
  hint?: string;
  required?: boolean;
  /** Only for sources, or only for targets. */
  only?: StorageDirection;
  defaultValue?: string | number | boolean;
  /** A different default for targets (Redis keeps targets in database 2, sources in 1). */
  exportDefault?: string | number | boolean;
  /**
   * Write-only: the server never returns it (credentials), so an edit form starts it
   * blank and a blank one keeps what is saved.
   */
  secret?: boolean;
}

const COMMON_SOURCE: StorageField[] = [
  { name: "regex_filter", label: "File filter regex", kind: "text", hint: "Only objects whose key matches, e.g. .*\\.(jpg|png)", only: "import" },
  { name: "use_blob_urls", label: "Treat every object as a source file (one task per file)", kind: "checkbox", only: "import", defaultValue: false },
  { name: "recursive_scan", label: "Scan all sub-folders", kind: "checkbox", only: "import", defaultValue: false },
];

const PRESIGN: StorageField[] = [
  { name: "presign", label: "Use pre-signed URLs", kind: "checkbox", only: "import", defaultValue: true },
  { name: "presign_ttl", label: "Pre-signed URL lifetime (minutes)", kind: "number", only: "import", defaultValue: 1 },
];

export const STORAGE_FIELDS: Record<StorageType, StorageField[]> = {
  s3: [
    { name: "bucket", label: "Bucket name", kind: "text", required: true },
    { name: "prefix", label: "Bucket prefix", kind: "text" },
    ...COMMON_SOURCE,
    { name: "region_name", label: "Region name", kind: "text" },
    { name: "s3_endpoint", label: "S3 endpoint", kind: "text", hint: "For S3-compatible stores such as MinIO." },
    { name: "aws_access_key_id", label: "Access key ID", kind: "text", secret: true },
    { name: "aws_secret_access_key", label: "Secret access key", kind: "password", secret: true },
    { name: "aws_session_token", label: "Session token", kind: "password", secret: true },
    { name: "aws_sse_kms_key_id", label: "SSE KMS key ID", kind: "text", hint: "Server-side encryption with this KMS key." },
    ...PRESIGN,
    { name: "can_delete_objects", label: "Delete objects when annotations are deleted", kind: "checkbox", only: "export", defaultValue: false },
  ],
  gcs: [
    { name: "bucket", label: "Bucket name", kind: "text", required: true },
    { name: "prefix", label: "Bucket prefix", kind: "text" },
    ...COMMON_SOURCE,
    { name: "google_project_id", label: "Google project ID", kind: "text" },
    {
      name: "google_application_credentials",
      label: "Service account credentials (JSON)",
      kind: "textarea",
      secret: true,
      hint: "Blank: the server's application default credentials.",
    },
    ...PRESIGN,
    { name: "can_delete_objects", label: "Delete objects when annotations are deleted", kind: "checkbox", only: "export", defaultValue: false },
  ],
  azure: [
    { name: "container", label: "Container name", kind: "text", required: true },
    { name: "prefix", label: "Container prefix", kind: "text" },
    ...COMMON_SOURCE,
    { name: "account_name", label: "Account name", kind: "text" },
    { name: "account_key", label: "Account key", kind: "password", secret: true },
    { name: "sas_token", label: "SAS token", kind: "password", secret: true, hint: "Instead of the account key." },
    {
      name: "connection_string",
      label: "Connection string",
      kind: "password",
      secret: true,
      hint: "Instead of the account name and key; may name its own blob endpoint.",
    },
    ...PRESIGN,
    { name: "can_delete_objects", label: "Delete objects when annotations are deleted", kind: "checkbox", only: "export", defaultValue: false },
  ],
  redis: [
    { name: "path", label: "Path (key prefix)", kind: "text" },
    { name: "host", label: "Host", kind: "text", required: true },
    { name: "port", label: "Port", kind: "number", defaultValue: 6379 },
    { name: "db", label: "Database number", kind: "number", defaultValue: 1, exportDefault: 2 },
    { name: "password", label: "Password", kind: "password", secret: true },
    ...COMMON_SOURCE,
    { name: "can_delete_objects", label: "Delete keys when annotations are deleted", kind: "checkbox", only: "export", defaultValue: false },
  ],
  localfiles: [
    { name: "path", label: "Absolute local path", kind: "text", required: true, hint: "A folder under the server's allowed document root." },
    ...COMMON_SOURCE,
    { name: "can_delete_objects", label: "Delete files when annotations are deleted", kind: "checkbox", only: "export", defaultValue: false },
  ],
};

export const STORAGE_TYPE_TITLES: Record<StorageType, string> = {
  s3: "AWS S3",
  gcs: "Google Cloud Storage",
  azure: "Microsoft Azure Blob Storage",
  redis: "Redis",
  localfiles: "Local files",
};

function base(direction: StorageDirection): string {
  return direction === "import" ? "/api/storages" : "/api/storages/export";
}

/** The storage types this installation offers for a direction. */
export function listStorageTypes(direction: StorageDirection): Promise<StorageTypeInfo[]> {
  return api<StorageTypeInfo[]>(`${base(direction)}/types`);
}

/** Every storage of a project for a direction, all types together. */
export function listStorages(direction: StorageDirection, projectId: number): Promise<Storage[]> {
  return api<Storage[]>(base(direction), { query: { project: projectId } });
}

export function createStorage(
  direction: StorageDirection,
  type: StorageType,
  fields: Record<string, unknown>,
): Promise<Storage> {
  return api<Storage>(`${base(direction)}/${type}`, { method: "POST", body: fields });
}

export function updateStorage(
  direction: StorageDirection,
  type: StorageType,
  id: number,
  fields: Record<string, unknown>,
): Promise<Storage> {
  return api<Storage>(`${base(direction)}/${type}/${id}`, { method: "PATCH", body: fields });
}

export function getStorage(direction: StorageDirection, type: StorageType, id: number): Promise<Storage> {
  return api<Storage>(`${base(direction)}/${type}/${id}`);
}

/**
 * Checks the connection without saving (a 400 names the field that is wrong). With `id`
 * among the fields, the saved storage's credentials fill the ones left blank.
 */
export function validateStorage(
  direction: StorageDirection,
  type: StorageType,
  fields: Record<string, unknown>,
): Promise<unknown> {
  return api(`${base(direction)}/${type}/validate`, { method: "POST", body: fields });
}

/**
 * A sync someone asked for on the page lists the whole storage (`full=true`), so every new
 * object is found whatever its name; only objects not yet imported become tasks. Scheduled
 * and API syncs list from their checkpoint, with a full listing now and then.
 */
export function syncStorage(direction: StorageDirection, type: StorageType, id: number): Promise<Storage> {
  return api<Storage>(`${base(direction)}/${type}/${id}/sync`, {
    method: "POST",
    query: direction === "import" ? { full: "true" } : undefined,
  });
}

export function deleteStorage(direction: StorageDirection, type: StorageType, id: number): Promise<void> {
  return api<void>(`${base(direction)}/${type}/${id}`, { method: "DELETE" });
}

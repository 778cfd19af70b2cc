/**
 * The one way the app talks to the API: same-origin fetch with the session cookie, the
 * CSRF header on unsafe methods, and Label Studio's error body turned into an `ApiError`
 * whose `fieldErrors` name the field and the reason.
 */

export interface LabelStudioErrorBody {
  status_code?: number;
  detail?: string;
  validation_errors?: Record<string, string[]> | null;
}

export class ApiError extends Error {
  readonly status: number;
  readonly fieldErrors: Record<string, string[]>;

  constructor(status: number, body: LabelStudioErrorBody | null, fallback: string) {
    super(body?.detail || fallback);
    this.name = "ApiError";
    this.status = status;
    this.fieldErrors = body?.validation_errors ?? {};
  }

  /** Every message, field-prefixed, for showing inline under a form. */
  messages(): string[] {
    const fields = Object.entries(this.fieldErrors).flatMap(([field, reasons]) =>
      reasons.map((reason) => (field === "non_field_errors" ? reason : `${field}: ${reason}`)),
    );
    return fields.length > 0 ? fields : [this.message];
  }
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Dispatched on `window` when any call answers 401: the session ended while the app was open. */
export const UNAUTHENTICATED_EVENT = "labelops:unauthenticated";

function cookie(name: string): string {
  const match = document.cookie.split("; ").find((part) => part.startsWith(`${name}=`));
  return match ? decodeURIComponent(match.slice(name.length + 1)) : "";
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}${path.includes("?") ? "&" : "?"}${text}` : path;
}

export interface RequestOptions {
  method?: string;
  query?: Query;
  /** A plain object is sent as JSON; FormData, Blob and strings are sent as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** The raw response, for downloads and streams; throws `ApiError` on a non-2xx status. */
export async function apiResponse(path: string, options: RequestOptions = {}): Promise<Response> {
  const method = (options.method ?? (options.body === undefined ? "GET" : "POST")).toUpperCase();
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  let body: BodyInit | undefined;
  if (options.body instanceof FormData || options.body instanceof Blob) {
    body = options.body;
  } else if (typeof options.body === "string") {
    body = options.body;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["Content-Type"] = "application/json";
  }
  if (UNSAFE.has(method)) {
    const csrf = cookie("csrftoken");
    if (csrf) headers["X-CSRFToken"] = csrf;
  }
  const response = await fetch(withQuery(path, options.query), {
    method,
    headers,
    body,
    credentials: "same-origin",
    signal: options.signal,
  });
  if (!response.ok) {
    if (response.status === 401) window.dispatchEvent(new Event(UNAUTHENTICATED_EVENT));
    let parsed: LabelStudioErrorBody | null = null;
    try {
      parsed = (await response.json()) as LabelStudioErrorBody;
    } catch {
      parsed = null;
    }
    throw new ApiError(response.status, parsed, `${method} ${path} failed (${response.status})`);
  }
  return response;
}

/** A JSON call; 204 answers resolve to `undefined`. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await apiResponse(path, options);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * `/api/webhooks` (project-svc): URLs the server calls when tasks, annotations or the
 * project change, each call signed with the webhook's secret; and their delivery log.
 */
import { api } from "./client";
import type { CreatedWebhook, Webhook, WebhookDelivery } from "./types";

export type { CreatedWebhook, Webhook, WebhookDelivery } from "./types";

export type WebhookAction =
  | "PROJECT_CREATED"
  | "PROJECT_UPDATED"
  | "PROJECT_DELETED"
  | "TASKS_CREATED"
  | "TASKS_DELETED"
  | "ANNOTATION_CREATED"
  | "ANNOTATIONS_CREATED"
  | "ANNOTATION_UPDATED"
  | "ANNOTATIONS_DELETED"
  | "LABEL_LINK_CREATED"
  | "LABEL_LINK_UPDATED"
  | "LABEL_LINK_DELETED";

/** The actions a project's webhook can send (`PROJECT_CREATED`/`_DELETED` are organization-only). */
export const WEBHOOK_ACTIONS: { action: WebhookAction; label: string }[] = [
  { action: "TASKS_CREATED", label: "Tasks created" },
  { action: "TASKS_DELETED", label: "Tasks deleted" },
  { action: "ANNOTATION_CREATED", label: "Annotation created" },
  { action: "ANNOTATIONS_CREATED", label: "Annotations created in bulk" },
  { action: "ANNOTATION_UPDATED", label: "Annotation updated" },
  { action: "ANNOTATIONS_DELETED", label: "Annotations deleted" },
  { action: "PROJECT_UPDATED", label: "Project updated" },
  { action: "LABEL_LINK_CREATED", label: "Label link created" },
  { action: "LABEL_LINK_UPDATED", label: "Label link updated" },
  { action: "LABEL_LINK_DELETED", label: "Label link deleted" },
];

/** A masked header value as the server serves it; sent back, it keeps the stored value. */
export const MASKED_VALUE = "********";

export interface WebhookInput {
  project?: number | null;
  url: string;
  send_payload?: boolean;
  send_for_all_actions?: boolean;
  headers?: Record<string, string>;
  is_active?: boolean;
  actions?: WebhookAction[];
}

export function listWebhooks(projectId: number): Promise<Webhook[]> {
  return api<Webhook[]>("/api/webhooks", { query: { project: projectId } });
}

export function createWebhook(input: WebhookInput): Promise<CreatedWebhook> {
  return api<CreatedWebhook>("/api/webhooks", { method: "POST", body: input });
}

export function updateWebhook(id: number, changes: Partial<WebhookInput>): Promise<Webhook> {
  return api<Webhook>(`/api/webhooks/${id}`, { method: "PATCH", body: changes });
}

export function deleteWebhook(id: number): Promise<void> {
  return api<void>(`/api/webhooks/${id}`, { method: "DELETE" });
}

/** The newest deliveries first. */
export function listDeliveries(id: number, limit = 50): Promise<WebhookDelivery[]> {
  return api<WebhookDelivery[]>(`/api/webhooks/${id}/deliveries`, { query: { limit } });
}

/** Queues a `WEBHOOK_TEST` call to the URL; the delivery log shows how it went. */
export function sendTest(id: number): Promise<WebhookDelivery> {
  return api<WebhookDelivery>(`/api/webhooks/${id}/test`, { method: "POST" });
}

export function redeliver(id: number, deliveryId: number): Promise<WebhookDelivery> {
  return api<WebhookDelivery>(`/api/webhooks/${id}/deliveries/${deliveryId}/redeliver`, { method: "POST" });
}

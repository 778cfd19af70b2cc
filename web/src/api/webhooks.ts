/**
 * `/api/webhooks`: URLs the server calls when tasks, annotations or the project change.
 *
 * Written by hand for now: no service serves these routes yet; their answers are
 * generated from the serving service's OpenAPI document once they arrive, typed.
 */
import { api } from "./client";

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

export const WEBHOOK_ACTIONS: { action: WebhookAction; label: string }[] = [
  { action: "TASKS_CREATED", label: "Tasks created" },
  { action: "TASKS_DELETED", label: "Tasks deleted" },
  { action: "ANNOTATION_CREATED", label: "Annotation created" },
  { action: "ANNOTATIONS_CREATED", label: "Annotations created in bulk" },
  { action: "ANNOTATION_UPDATED", label: "Annotation updated" },
  { action: "ANNOTATIONS_DELETED", label: "Annotations deleted" },
  { action: "PROJECT_UPDATED", label: "Project updated" },
  { action: "PROJECT_DELETED", label: "Project deleted" },
];

export interface Webhook {
  id: number;
  organization: number;
  project: number | null;
  url: string;
  send_payload: boolean;
  send_for_all_actions: boolean;
  headers: Record<string, string>;
  is_active: boolean;
  actions: WebhookAction[];
  created_at: string;
  updated_at: string;
}

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

export function createWebhook(input: WebhookInput): Promise<Webhook> {
  return api<Webhook>("/api/webhooks", { method: "POST", body: input });
}

export function updateWebhook(id: number, changes: Partial<WebhookInput>): Promise<Webhook> {
  return api<Webhook>(`/api/webhooks/${id}`, { method: "PATCH", body: changes });
}

export function deleteWebhook(id: number): Promise<void> {
  return api<void>(`/api/webhooks/${id}`, { method: "DELETE" });
}

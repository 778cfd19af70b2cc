/**
 * `/api/ml`: the ML backends connected to a project (Label Studio's MLBackend fields), their
 * state, training, a test prediction, model versions, and the prediction jobs that
 * "Retrieve predictions" queues (`/api/ml/{id}/jobs`, a LabelOps addition).
 */
import { api } from "./client";

/** CO connected, DI disconnected, ER error, TR training, PR predicting. */
export type MlBackendState = "CO" | "DI" | "ER" | "TR" | "PR";

export type MlAuthMethod = "NONE" | "BASIC_AUTH";

export interface MlBackend {
  id: number;
  url: string;
  title: string;
  description: string;
  project: number;
  state: MlBackendState;
  readable_state: string;
  error_message: string | null;
  is_interactive: boolean;
  model_version: string | null;
  timeout: number;
  auth_method: MlAuthMethod;
  basic_auth_user: string | null;
  /** The password itself is write-only: answers only say whether one is set. */
  basic_auth_pass_is_set: boolean;
  extra_params: Record<string, unknown> | null;
  auto_update: boolean;
  created_at: string;
  updated_at: string;
}

export interface MlBackendInput {
  url: string;
  title?: string;
  description?: string;
  project: number;
  is_interactive?: boolean;
  timeout?: number;
  auth_method?: MlAuthMethod;
  basic_auth_user?: string;
  basic_auth_pass?: string;
  /** A JSON object, or its text (the server parses and checks it). */
  extra_params?: Record<string, unknown> | string | null;
}

export const ML_STATE_LABELS: Record<MlBackendState, string> = {
  CO: "Connected",
  DI: "Disconnected",
  ER: "Error",
  TR: "Training",
  PR: "Predicting",
};

/** queued, running, succeeded, failed or cancelled. */
export type PredictionJobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export interface PredictionJob {
  id: number;
  project: number;
  ml_backend: number;
  status: PredictionJobStatus | string;
  model_version: string;
  /** Tasks the job will handle (null until it has counted them). */
  total: number | null;
  /** Tasks handled so far: predicted + skipped + failed. */
  progress: number;
  predicted: number;
  skipped: number;
  failed: number;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

/** A job an action queued: "Retrieve predictions" answers with `job` and `ml_backend`. */
export interface QueuedJob {
  backendId: number;
  jobId: number;
}

export function queuedJobOf(answer: unknown): QueuedJob | null {
  if (!answer || typeof answer !== "object") return null;
  const { job, ml_backend: backend } = answer as { job?: unknown; ml_backend?: unknown };
  return typeof job === "number" && typeof backend === "number" ? { backendId: backend, jobId: job } : null;
}

export function isJobFinished(job: PredictionJob): boolean {
  return job.status === "succeeded" || job.status === "failed" || job.status === "cancelled";
}

export function listMlBackends(projectId: number): Promise<MlBackend[]> {
  return api<MlBackend[]>("/api/ml", { query: { project: projectId } });
}

export function createMlBackend(input: MlBackendInput): Promise<MlBackend> {
  return api<MlBackend>("/api/ml", { method: "POST", body: input });
}

export function updateMlBackend(id: number, changes: Partial<MlBackendInput>): Promise<MlBackend> {
  return api<MlBackend>(`/api/ml/${id}`, { method: "PATCH", body: changes });
}

export function deleteMlBackend(id: number): Promise<void> {
  return api<void>(`/api/ml/${id}`, { method: "DELETE" });
}

export function trainMlBackend(id: number): Promise<unknown> {
  return api(`/api/ml/${id}/train`, { method: "POST", body: {} });
}

/** The backend's own answer for one random task of the project. */
export function testMlPrediction(id: number): Promise<unknown> {
  return api(`/api/ml/${id}/predict/test`, { method: "POST", query: { random: true }, body: {} });
}

export function listMlVersions(id: number): Promise<{ versions: string[]; message?: string }> {
  return api<{ versions: string[]; message?: string }>(`/api/ml/${id}/versions`);
}

/** The backend's latest prediction jobs, newest first, with their progress. */
export function listPredictionJobs(id: number, signal?: AbortSignal): Promise<PredictionJob[]> {
  return api<PredictionJob[]>(`/api/ml/${id}/jobs`, { signal });
}

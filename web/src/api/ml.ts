/**
 * `/api/ml`: the ML backends connected to a project (Label Studio's MLBackend fields), their
 * state, training, a test prediction, model versions, and the prediction jobs that
 * "Retrieve predictions" queues (`/api/ml/{id}/jobs`, a LabelOps addition).
 */
import { api } from "./client";
import type { components as mlGateway } from "./generated/ml-gateway";

type MlSchemas = mlGateway["schemas"];

/** CO connected, DI disconnected, ER error, TR training, PR predicting. */
export type MlBackendState = "CO" | "DI" | "ER" | "TR" | "PR";

export type MlAuthMethod = "NONE" | "BASIC_AUTH";

/** An ML backend as `/api/ml` answers it; the basic-auth password is write-only. */
export type MlBackend = MlSchemas["MLBackendAnswer"];

/**
 * What connecting or editing sends. `extra_params` may also be the JSON text of the form's
 * field: the server parses it and names the field when it is not a JSON object.
 */
export type MlBackendInput = Omit<MlSchemas["MLBackendCreate"], "extra_params"> & {
  extra_params?: Record<string, unknown> | string | null;
};

export type PredictionJob = MlSchemas["PredictionJobAnswer"];

/** A training run: `START_TRAINING` asked by hand, or the annotation event that started it. */
export type TrainJob = MlSchemas["TrainJobAnswer"];

export const ML_STATE_LABELS: Record<string, string> = {
  CO: "Connected",
  DI: "Disconnected",
  ER: "Error",
  TR: "Training",
  PR: "Predicting",
};

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

/** A job's status is queued, running, succeeded, failed or cancelled. */
export function isJobFinished(job: { status: string }): boolean {
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

/** Queues a training run (the backend's `/webhook` with `START_TRAINING`). */
export function trainMlBackend(id: number): Promise<TrainJob> {
  return api<TrainJob>(`/api/ml/${id}/train`, { method: "POST", body: {} });
}

/** The backend's latest training runs, newest first. */
export function listTrainJobs(id: number, signal?: AbortSignal): Promise<TrainJob[]> {
  return api<TrainJob[]>(`/api/ml/${id}/train-jobs`, { signal });
}

/** The backend's own answer for one random task of the project. */
export function testMlPrediction(id: number): Promise<unknown> {
  return api(`/api/ml/${id}/predict/test`, { method: "POST", query: { random: true }, body: {} });
}

export function listMlVersions(id: number): Promise<MlSchemas["VersionsAnswer"]> {
  return api<MlSchemas["VersionsAnswer"]>(`/api/ml/${id}/versions`);
}

/** The backend's latest prediction jobs, newest first, with their progress. */
export function listPredictionJobs(id: number, signal?: AbortSignal): Promise<PredictionJob[]> {
  return api<PredictionJob[]>(`/api/ml/${id}/jobs`, { signal });
}

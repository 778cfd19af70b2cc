/**
 * `/api/ml`: the ML backends connected to a project, and their connection state.
 *
 * Written by hand for now: ml-gateway serves no routes yet; its answers are generated
 * from its OpenAPI document (`./generated/ml-gateway.ts`) once they arrive, typed.
 */
import { api } from "./client";

/** CO connected, DI disconnected, ER error, TR training, PR predicting. */
export type MlBackendState = "CO" | "DI" | "ER" | "TR" | "PR";

export interface MlBackend {
  id: number;
  url: string;
  title?: string | null;
  description?: string | null;
  project: number;
  state: MlBackendState;
  readable_state?: string;
  error_message?: string | null;
  is_interactive: boolean;
  model_version?: string | null;
  timeout?: number;
  auth_method?: "NONE" | "BASIC_AUTH";
  basic_auth_user?: string | null;
  basic_auth_pass_is_set?: boolean;
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
  auth_method?: "NONE" | "BASIC_AUTH";
  basic_auth_user?: string;
  basic_auth_pass?: string;
}

export const ML_STATE_LABELS: Record<MlBackendState, string> = {
  CO: "Connected",
  DI: "Disconnected",
  ER: "Error",
  TR: "Training",
  PR: "Predicting",
};

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

/** `/api/projects`: list, read, create, update, delete, and label-config validation. */
import { api } from "./client";
import type { Page, Project, ProjectInput, ProjectMember } from "./types";

export interface ProjectListQuery {
  page?: number;
  page_size?: number;
  search?: string;
  ordering?: string;
  filter?: "all" | "pinned_only" | "exclude_pinned";
}

export function listProjects(query: ProjectListQuery = {}, signal?: AbortSignal): Promise<Page<Project>> {
  return api<Page<Project>>("/api/projects", { query: { ...query }, signal });
}

export function getProject(projectId: number | string, signal?: AbortSignal): Promise<Project> {
  return api<Project>(`/api/projects/${projectId}`, { signal });
}

export function createProject(fields: ProjectInput): Promise<Project> {
  return api<Project>("/api/projects", { method: "POST", body: fields });
}

export function updateProject(projectId: number | string, fields: ProjectInput): Promise<Project> {
  return api<Project>(`/api/projects/${projectId}`, { method: "PATCH", body: fields });
}

export function deleteProject(projectId: number | string): Promise<void> {
  return api<void>(`/api/projects/${projectId}`, { method: "DELETE" });
}

/** Resolves when the config is valid; rejects with an `ApiError` whose `fieldErrors.label_config` say why. */
export function validateConfig(labelConfig: string, signal?: AbortSignal): Promise<void> {
  return api<void>("/api/projects/validate", {
    method: "POST",
    body: { label_config: labelConfig },
    signal,
  });
}

/**
 * Validates a new config against a project's existing annotations;
 * `config_essential_data_has_changed` says whether labels in use would be dropped.
 */
export function validateConfigForProject(
  projectId: number | string,
  labelConfig: string,
  signal?: AbortSignal,
): Promise<{ config_essential_data_has_changed: boolean }> {
  return api(`/api/projects/${projectId}/validate`, {
    method: "POST",
    body: { label_config: labelConfig },
    signal,
  });
}

/** The annotators and reviewers who see the project (managers and up see every project). */
export function listProjectMembers(projectId: number | string): Promise<ProjectMember[]> {
  return api<ProjectMember[]>(`/api/projects/${projectId}/members/`);
}

export function addProjectMember(projectId: number | string, userId: number): Promise<ProjectMember> {
  return api<ProjectMember>(`/api/projects/${projectId}/members/`, {
    method: "POST",
    body: { user: userId },
  });
}

export function removeProjectMember(projectId: number | string, userId: number): Promise<void> {
  return api<void>(`/api/projects/${projectId}/members/`, {
    method: "DELETE",
    query: { user: userId },
  });
}

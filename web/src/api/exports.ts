/**
 * Exports (export-svc, Label Studio's endpoints): the formats that fit the project's
 * labeling config, the synchronous download, and snapshots made in the background.
 */
import { api, withQuery } from "./client";
import type { ExportFormat, Snapshot } from "./types";

export type { ExportFormat, Snapshot, SnapshotStatus } from "./types";

export function listFormats(projectId: number, signal?: AbortSignal): Promise<ExportFormat[]> {
  return api<ExportFormat[]>(`/api/projects/${projectId}/export/formats`, { signal });
}

/** The synchronous export as a link the browser downloads while the server streams it. */
export function downloadNowUrl(projectId: number, exportType: string, allTasks: boolean): string {
  return withQuery(`/api/projects/${projectId}/export`, {
    exportType,
    download_all_tasks: allTasks ? "true" : "false",
  });
}

export function listSnapshots(projectId: number, signal?: AbortSignal): Promise<Snapshot[]> {
  return api<Snapshot[]>(`/api/projects/${projectId}/exports`, { signal });
}

export interface SnapshotOptions {
  title?: string;
  onlyWithAnnotations: boolean;
}

export function createSnapshot(projectId: number, options: SnapshotOptions): Promise<Snapshot> {
  return api<Snapshot>(`/api/projects/${projectId}/exports`, {
    method: "POST",
    body: {
      title: options.title ?? "",
      task_filter_options: { only_with_annotations: options.onlyWithAnnotations },
    },
  });
}

export function getSnapshot(projectId: number, snapshotId: number, signal?: AbortSignal): Promise<Snapshot> {
  return api<Snapshot>(`/api/projects/${projectId}/exports/${snapshotId}`, { signal });
}

export function deleteSnapshot(projectId: number, snapshotId: number): Promise<void> {
  return api<void>(`/api/projects/${projectId}/exports/${snapshotId}`, { method: "DELETE" });
}

export function snapshotDownloadUrl(projectId: number, snapshotId: number, exportType: string): string {
  return withQuery(`/api/projects/${projectId}/exports/${snapshotId}/download`, { exportType });
}

export function isRunning(snapshot: Snapshot): boolean {
  return snapshot.status === "created" || snapshot.status === "in_progress";
}

/**
 * The "All tasks" tab is this browser's own: its filters, order and columns are kept in
 * localStorage per project, and come back the next time the data manager opens.
 */
import type { TabState } from "./dataManagerState";

export function allTasksKey(projectId: number): string {
  return `labelops.datamanager.${projectId}.all-tasks`;
}

/** The stored tab state, or null when there is none or it is not one. */
export function storedAllTasksTab(projectId: number): TabState | null {
  try {
    const raw = window.localStorage.getItem(allTasksKey(projectId));
    const parsed = raw ? (JSON.parse(raw) as Partial<TabState>) : null;
    if (!parsed || !Array.isArray(parsed.rows) || !Array.isArray(parsed.ordering) || !Array.isArray(parsed.hidden)) {
      return null;
    }
    return {
      rows: parsed.rows,
      conjunction: parsed.conjunction === "or" ? "or" : "and",
      ordering: parsed.ordering,
      hidden: parsed.hidden,
    };
  } catch {
    return null;
  }
}

export function storeAllTasksTab(projectId: number, state: TabState): void {
  try {
    window.localStorage.setItem(allTasksKey(projectId), JSON.stringify(state));
  } catch {
    // Storage may be full or disabled; the tab then starts afresh next time.
  }
}

/** The data manager's columns, saved views and actions, loaded once per project. */
import { useEffect, type Dispatch } from "react";

import { listActions, listColumns, listViews } from "../../api/dm";
import { storedAllTasksTab } from "./allTasksStorage";
import type { DataManagerAction } from "./dataManagerState";

export function useDataManagerSetup(projectId: number, dispatch: Dispatch<DataManagerAction>): void {
  useEffect(() => {
    const controller = new AbortController();
    Promise.all([
      listColumns(projectId, controller.signal),
      listViews(projectId, controller.signal),
      listActions(projectId, controller.signal),
    ])
      .then(([columns, views, actions]) =>
        dispatch({ type: "setupLoaded", columns, views, actions, allTasksTab: storedAllTasksTab(projectId) }),
      )
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) dispatch({ type: "setupFailed", error: caught });
      });
    return () => controller.abort();
  }, [projectId, dispatch]);
}

/**
 * The tabs: "All tasks" (kept in this browser) and the project's saved views, whose edits
 * are saved after a pause and at once when another tab is chosen; creating, renaming and
 * deleting a view.
 */
import { useEffect, useEffectEvent, type Dispatch } from "react";

import { createView, deleteView, updateView, type View } from "../../api/dm";
import { useDebounced } from "../../ui";
import { storeAllTasksTab } from "./allTasksStorage";
import {
  activeViewOf,
  ALL_TASKS,
  stateFromView,
  viewData,
  viewTitle,
  type DataManagerAction,
  type DataManagerState,
  type TabState,
} from "./dataManagerState";

export interface DataManagerViews {
  /** The saved view the active tab shows; null on "All tasks". */
  activeView: View | null;
  switchTab: (id: string) => void;
  addView: () => Promise<void>;
  /** Saves `newTitle` as the title of the view being renamed; rejects when that fails. */
  renameView: () => Promise<void>;
  /** Deletes the view asked about and goes back to "All tasks"; rejects when that fails. */
  removeView: () => Promise<void>;
}

export function useDataManagerViews(
  projectId: number,
  state: DataManagerState,
  dispatch: Dispatch<DataManagerAction>,
): DataManagerViews {
  const { columns, views, activeTab, tab, renaming, newTitle, deleting } = state;
  const activeView = activeViewOf(state);

  /** Saves a view's tab state unless the view already holds exactly that. */
  const saveView = (view: View, edited: TabState) => {
    if (!columns) return;
    const data = viewData(viewTitle(view), edited, columns);
    const stored = viewData(viewTitle(view), stateFromView(view.data, columns), columns);
    if (JSON.stringify(data) === JSON.stringify(stored)) return;
    updateView(view, data)
      .then((saved) => dispatch({ type: "viewSaved", view: saved }))
      .catch((caught: unknown) => dispatch({ type: "setViewError", error: caught }));
  };

  // A saved view keeps what its tab shows; edits are saved after a pause. Only a change of
  // the tab's content saves (into the view shown then); switching tabs saves at once (below).
  const savedTab = useDebounced(tab, 600);
  const saveEdits = useEffectEvent((edited: TabState) => {
    if (activeView) saveView(activeView, edited);
  });
  useEffect(() => {
    saveEdits(savedTab);
  }, [savedTab]);

  // The "All tasks" tab is this browser's own: its filters, order and columns stay here.
  useEffect(() => {
    if (columns && activeTab === ALL_TASKS) storeAllTasksTab(projectId, tab);
  }, [columns, activeTab, projectId, tab]);

  const switchTab = (id: string) => {
    if (!columns) return;
    if (activeView) saveView(activeView, tab);
    dispatch({ type: "switchTab", id });
  };

  const addView = async () => {
    if (!columns) return;
    dispatch({ type: "setViewError", error: null });
    try {
      const created = await createView(projectId, viewData(`View ${views.length + 1}`, tab, columns));
      dispatch({ type: "viewCreated", view: created });
    } catch (caught) {
      dispatch({ type: "setViewError", error: caught });
    }
  };

  const renameView = async () => {
    if (!renaming || !columns) return;
    const saved = await updateView(renaming, { ...viewData(newTitle.trim(), tab, columns) });
    dispatch({ type: "viewRenamed", view: saved });
  };

  const removeView = async () => {
    if (!deleting) return;
    await deleteView(deleting.id);
    dispatch({ type: "viewDeleted", id: deleting.id });
  };

  return { activeView, switchTab, addView, renameView, removeView };
}

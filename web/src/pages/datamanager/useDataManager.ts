/**
 * Everything the data manager page does besides rendering: its state (`dataManagerState.ts`)
 * and the hooks that load columns, views and actions, the page of tasks, and keep the tabs,
 * plus running a bulk action and refreshing.
 */
import { useCallback, useReducer, useState, type Dispatch } from "react";

import { runAction } from "../../api/dm";
import { queuedJobOf, type QueuedJob } from "../../api/ml";
import { useToast } from "../../ui";
import {
  initialState,
  reducer,
  selectedItems,
  type DataManagerAction,
  type DataManagerState,
} from "./dataManagerState";
import { useDataManagerSetup } from "./useDataManagerSetup";
import { useDataManagerTasks, type DataManagerTasks } from "./useDataManagerTasks";
import { useDataManagerViews, type DataManagerViews } from "./useDataManagerViews";

export interface DataManager extends DataManagerTasks, DataManagerViews {
  state: DataManagerState;
  dispatch: Dispatch<DataManagerAction>;
  /** Runs the chosen bulk action on the selection; rejects when that fails. */
  runPendingAction: (params?: Record<string, unknown>) => Promise<void>;
  /** Loads the page again, and the project's counts. */
  refresh: () => void;
  /** The prediction job the last "Retrieve predictions" queued, while its progress shows. */
  predictionJob: QueuedJob | null;
  dismissPredictionJob: () => void;
}


export function useDataManager(projectId: number, reloadProject: () => Promise<unknown>): DataManager {
  const [state, dispatch] = useReducer(reducer, initialState);
  const toast = useToast();
  const [predictionJob, setPredictionJob] = useState<QueuedJob | null>(null);
  useDataManagerSetup(projectId, dispatch);
  const tasks = useDataManagerTasks(projectId, state, dispatch);
  const views = useDataManagerViews(projectId, state, dispatch);

  const runPendingAction = async (params: Record<string, unknown> = {}) => {
    const { pendingAction, selection } = state;
    if (!pendingAction) return;
    const answer = await runAction(projectId, pendingAction.id, selectedItems(selection), tasks.query, params);
    toast.show(answer.detail ?? `${pendingAction.title}: done`, "success");
    const queued = queuedJobOf(answer);
    if (queued) setPredictionJob(queued);
    dispatch({ type: "actionDone" });
    void reloadProject().catch(() => undefined);
  };

  const refresh = useCallback(() => {
    dispatch({ type: "reload" });
    void reloadProject().catch(() => undefined);
  }, [reloadProject]);

  const dismissPredictionJob = useCallback(() => setPredictionJob(null), []);

  return {
    state,
    dispatch,
    ...tasks,
    ...views,
    runPendingAction,
    refresh,
    predictionJob,
    dismissPredictionJob,
  };
}

/**
 * The shown page of tasks: the active tab's filters and ordering as a query (debounced while
 * a filter value is typed), the page of that query, and one server page loaded whenever the
 * page, its size, the query or a reload asks for it. A new query starts on page 1 with
 * nothing selected.
 */
import { useCallback, useEffect, useMemo, type Dispatch } from "react";

import { ApiError } from "../../api/client";
import { listTaskPage, type Filters, type TaskQuery } from "../../api/dm";
import { useDebounced } from "../../ui";
import { currentPage, filtersOf, type DataManagerAction, type DataManagerState } from "./dataManagerState";

export interface DataManagerTasks {
  /** The active tab's filters as Label Studio's filter object (undefined before columns load). */
  filters: Filters | undefined;
  /** The query as the tab holds it now; the table follows it after a pause. */
  query: TaskQuery;
  page: number;
  setPage: (page: number) => void;
  setPageSize: (pageSize: number) => void;
}

export function useDataManagerTasks(
  projectId: number,
  state: DataManagerState,
  dispatch: Dispatch<DataManagerAction>,
): DataManagerTasks {
  const { columns, tab, pageSize, reloadCount } = state;
  const filters = useMemo(() => (columns ? filtersOf(tab, columns) : undefined), [columns, tab]);
  const query: TaskQuery = useMemo(() => ({ filters, ordering: tab.ordering }), [filters, tab.ordering]);
  // Typing in a filter value waits for a pause before asking the server.
  const debouncedQuery = useDebounced(query, 300);
  const queryKey = JSON.stringify(debouncedQuery);

  const page = currentPage(state, queryKey);
  const setPage = useCallback(
    (next: number) => dispatch({ type: "setPage", page: next, queryKey }),
    [dispatch, queryKey],
  );
  const setPageSize = useCallback(
    (size: number) => dispatch({ type: "setPageSize", pageSize: size, queryKey }),
    [dispatch, queryKey],
  );

  // One page of tasks whenever the page, its size, the query or a reload asks for it.
  useEffect(() => {
    if (!columns) return;
    const controller = new AbortController();
    dispatch({ type: "loadStarted" });
    listTaskPage(projectId, page, pageSize, JSON.parse(queryKey) as TaskQuery, controller.signal)
      .then((result) => dispatch({ type: "loadSucceeded", result }))
      .catch((caught: unknown) => {
        if (controller.signal.aborted) return;
        // The page went away (tasks were deleted): show the first one instead.
        if (caught instanceof ApiError && caught.status === 404 && page > 1) {
          dispatch({ type: "pageGone", queryKey });
          return;
        }
        dispatch({ type: "loadFailed", error: caught });
      });
    return () => controller.abort();
  }, [columns, projectId, page, pageSize, queryKey, reloadCount, dispatch]);

  // A new query starts with nothing selected.
  useEffect(() => {
    dispatch({ type: "clearSelection" });
  }, [queryKey, dispatch]);

  return { filters, query, page, setPage, setPageSize };
}

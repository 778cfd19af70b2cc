/**
 * The data manager's state in one place: what was loaded (columns, saved views, actions, a
 * page of tasks), the active tab with its filters, ordering and hidden columns, paging, the
 * selection, and the open menus and dialogs. `reducer` is pure: the hooks in
 * `useDataManager*.ts` do the fetching and hand it what came back.
 */
import {
  columnKey,
  type Action,
  type Column,
  type Filters,
  type SelectedItems,
  type View,
  type ViewData,
} from "../../api/dm";
import type { TaskPage } from "../../api/tasks";
import { defaultHidden, fromFilterItem, toFilterItem, type FilterRow } from "./columns";

export const PAGE_SIZES = [10, 30, 50, 100];
export const DEFAULT_PAGE_SIZE = 30;
/** The id of the built-in "All tasks" tab; saved views use their numeric id. */
export const ALL_TASKS = "all";

/** What a tab holds: its filters, ordering and hidden columns. */
export interface TabState {
  rows: FilterRow[];
  conjunction: "and" | "or";
  ordering: string[];
  hidden: string[];
}

export interface Selection {
  /** true: every task under the filters except `ids`; false: only `ids`. */
  all: boolean;
  ids: Set<number>;
}

export const NOTHING_SELECTED: Selection = { all: false, ids: new Set() };

export interface DataManagerState {
  // Loaded once per project.
  columns: Column[] | null;
  views: View[];
  actions: Action[];
  setupError: unknown;
  // The tabs: the active one's state, and the "All tasks" tab's while a saved view is shown.
  activeTab: string;
  tab: TabState;
  allTasksTab: TabState | null;
  /** The page number, and the query it belongs to: another query starts on page 1. */
  paging: { page: number; queryKey: string };
  pageSize: number;
  // The shown page of tasks.
  result: TaskPage | null;
  loadError: unknown;
  loading: boolean;
  /** Bumped to load the page again with the same query. */
  reloadCount: number;
  selection: Selection;
  previewId: number | null;
  // Menus and dialogs.
  showFilters: boolean;
  showColumns: boolean;
  showActions: boolean;
  pendingAction: Action | null;
  renaming: View | null;
  newTitle: string;
  deleting: View | null;
  viewError: unknown;
}

export const initialState: DataManagerState = {
  columns: null,
  views: [],
  actions: [],
  setupError: null,
  activeTab: ALL_TASKS,
  tab: { rows: [], conjunction: "and", ordering: [], hidden: [] },
  allTasksTab: null,
  paging: { page: 1, queryKey: "" },
  pageSize: DEFAULT_PAGE_SIZE,
  result: null,
  loadError: null,
  loading: false,
  reloadCount: 0,
  selection: NOTHING_SELECTED,
  previewId: null,
  showFilters: false,
  showColumns: false,
  showActions: false,
  pendingAction: null,
  renaming: null,
  newTitle: "",
  deleting: null,
  viewError: null,
};

export type DataManagerAction =
  // Loading the project's columns, views and actions.
  | { type: "setupLoaded"; columns: Column[]; views: View[]; actions: Action[]; allTasksTab: TabState | null }
  | { type: "setupFailed"; error: unknown }
  // Loading a page of tasks.
  | { type: "loadStarted" }
  | { type: "loadSucceeded"; result: TaskPage }
  | { type: "loadFailed"; error: unknown }
  /** The page went away (tasks were deleted): the first page of the same query instead. */
  | { type: "pageGone"; queryKey: string }
  | { type: "reload" }
  // Paging.
  | { type: "setPage"; page: number; queryKey: string }
  | { type: "setPageSize"; pageSize: number; queryKey: string }
  // The active tab's filters, ordering and columns.
  | { type: "setFilters"; rows: FilterRow[]; conjunction: "and" | "or" }
  | { type: "toggleOrdering"; key: string }
  | { type: "setColumnShown"; key: string; shown: boolean }
  // Tabs and saved views.
  | { type: "switchTab"; id: string }
  | { type: "viewCreated"; view: View }
  | { type: "viewSaved"; view: View }
  | { type: "viewRenamed"; view: View }
  | { type: "viewDeleted"; id: number }
  /** Shows why a view could not be saved; null clears it. */
  | { type: "setViewError"; error: unknown }
  | { type: "startRename"; view: View }
  | { type: "setNewTitle"; title: string }
  | { type: "cancelRename" }
  | { type: "startDelete"; view: View }
  | { type: "cancelDelete" }
  // Selection.
  | { type: "toggleRow"; taskId: number }
  | { type: "selectAll" }
  | { type: "clearSelection" }
  // Bulk actions.
  | { type: "toggleActions" }
  | { type: "closeActions" }
  | { type: "chooseAction"; action: Action }
  | { type: "cancelAction" }
  | { type: "actionDone" }
  // The rest of the toolbar and the preview.
  | { type: "toggleFilters" }
  | { type: "toggleColumns" }
  | { type: "closeColumns" }
  | { type: "preview"; taskId: number | null };

export function viewTitle(view: View): string {
  return typeof view.data.title === "string" && view.data.title ? view.data.title : `View ${view.id}`;
}

/** The "All tasks" tab as it starts with nothing stored: no filters, the default columns. */
export function freshTab(columns: Column[]): TabState {
  return { rows: [], conjunction: "and", ordering: [], hidden: defaultHidden(columns) };
}

export function stateFromView(data: ViewData, columns: Column[]): TabState {
  return {
    rows: (data.filters?.items ?? []).map(fromFilterItem),
    conjunction: data.filters?.conjunction === "or" ? "or" : "and",
    ordering: data.ordering ?? [],
    hidden: data.hiddenColumns?.explore ?? defaultHidden(columns),
  };
}

export function filtersOf(state: TabState, columns: Column[]): Filters {
  const byKey = new Map(columns.map((column) => [columnKey(column), column]));
  return {
    conjunction: state.conjunction,
    items: state.rows.flatMap((row) => {
      const column = byKey.get(row.column);
      return column ? [toFilterItem(row, column)] : [];
    }),
  };
}

export function viewData(title: string, state: TabState, columns: Column[]): ViewData {
  return {
    title,
    filters: filtersOf(state, columns),
    ordering: state.ordering,
    hiddenColumns: { explore: state.hidden, labeling: [] },
  };
}

/** The next ordering when a column's header is clicked: ascending, descending, none. */
export function nextOrdering(ordering: string[], key: string): string[] {
  const current = ordering[0];
  if (current === key) return [`-${key}`];
  if (current === `-${key}`) return [];
  return [key];
}

/** The page shown for a query: a page set for another query does not carry over. */
export function currentPage(state: DataManagerState, queryKey: string): number {
  return state.paging.queryKey === queryKey ? state.paging.page : 1;
}

/** The saved view the active tab shows; null on "All tasks". */
export function activeViewOf(state: DataManagerState): View | null {
  return state.views.find((view) => String(view.id) === state.activeTab) ?? null;
}

export function selectedCount(selection: Selection, total: number): number {
  return selection.all ? Math.max(0, total - selection.ids.size) : selection.ids.size;
}

export function isSelected(selection: Selection, taskId: number): boolean {
  return selection.all ? !selection.ids.has(taskId) : selection.ids.has(taskId);
}

/** The "select all" checkbox: unticked, ticked, or indeterminate. */
export function headerState(selection: Selection, total: number): "none" | "all" | "some" {
  if (selectedCount(selection, total) === 0) return "none";
  return selection.all && selection.ids.size === 0 ? "all" : "some";
}

/** The selection in Label Studio's shape for an action. */
export function selectedItems(selection: Selection): SelectedItems {
  return selection.all ? { all: true, excluded: [...selection.ids] } : { all: false, included: [...selection.ids] };
}

function replaceView(views: View[], saved: View): View[] {
  return views.map((view) => (view.id === saved.id ? saved : view));
}

export function reducer(state: DataManagerState, action: DataManagerAction): DataManagerState {
  switch (action.type) {
    case "setupLoaded": {
      const tab = action.allTasksTab ?? freshTab(action.columns);
      return { ...state, columns: action.columns, views: action.views, actions: action.actions, allTasksTab: tab, tab };
    }
    case "setupFailed":
      return { ...state, setupError: action.error };

    case "loadStarted":
      return { ...state, loading: true, loadError: null };
    case "loadSucceeded":
      return { ...state, result: action.result, loading: false };
    case "loadFailed":
      return { ...state, loading: false, loadError: action.error };
    case "pageGone":
      return { ...state, loading: false, paging: { page: 1, queryKey: action.queryKey } };
    case "reload":
      return { ...state, reloadCount: state.reloadCount + 1 };

    case "setPage":
      return { ...state, paging: { page: action.page, queryKey: action.queryKey } };
    case "setPageSize":
      return { ...state, pageSize: action.pageSize, paging: { page: 1, queryKey: action.queryKey } };

    case "setFilters":
      return { ...state, tab: { ...state.tab, rows: action.rows, conjunction: action.conjunction } };
    case "toggleOrdering":
      return { ...state, tab: { ...state.tab, ordering: nextOrdering(state.tab.ordering, action.key) } };
    case "setColumnShown": {
      const hidden = action.shown
        ? state.tab.hidden.filter((key) => key !== action.key)
        : [...state.tab.hidden, action.key];
      return { ...state, tab: { ...state.tab, hidden } };
    }

    case "switchTab": {
      if (!state.columns) return state;
      // Leaving "All tasks" keeps its state for coming back; a saved view saves itself.
      const allTasksTab = state.activeTab === ALL_TASKS ? state.tab : state.allTasksTab;
      const view = state.views.find((candidate) => String(candidate.id) === action.id);
      return {
        ...state,
        activeTab: action.id,
        allTasksTab,
        tab: view ? stateFromView(view.data, state.columns) : (allTasksTab ?? state.tab),
        previewId: null,
      };
    }
    case "viewCreated": {
      if (!state.columns) return state;
      return {
        ...state,
        views: [...state.views, action.view],
        allTasksTab: state.activeTab === ALL_TASKS ? state.tab : state.allTasksTab,
        activeTab: String(action.view.id),
        tab: stateFromView(action.view.data, state.columns),
      };
    }
    case "viewSaved":
      return { ...state, views: replaceView(state.views, action.view) };
    case "viewRenamed":
      return { ...state, views: replaceView(state.views, action.view), renaming: null };
    case "viewDeleted":
      return {
        ...state,
        views: state.views.filter((view) => view.id !== action.id),
        deleting: null,
        activeTab: ALL_TASKS,
        tab: state.allTasksTab ?? state.tab,
      };
    case "setViewError":
      return { ...state, viewError: action.error };
    case "startRename":
      return { ...state, newTitle: viewTitle(action.view), renaming: action.view };
    case "setNewTitle":
      return { ...state, newTitle: action.title };
    case "cancelRename":
      return { ...state, renaming: null };
    case "startDelete":
      return { ...state, deleting: action.view };
    case "cancelDelete":
      return { ...state, deleting: null };

    case "toggleRow": {
      const ids = new Set(state.selection.ids);
      if (ids.has(action.taskId)) ids.delete(action.taskId);
      else ids.add(action.taskId);
      return { ...state, selection: { all: state.selection.all, ids } };
    }
    case "selectAll":
      return { ...state, selection: { all: true, ids: new Set() } };
    case "clearSelection":
      return state.selection === NOTHING_SELECTED ? state : { ...state, selection: NOTHING_SELECTED };

    case "toggleActions":
      return { ...state, showActions: !state.showActions };
    case "closeActions":
      return state.showActions ? { ...state, showActions: false } : state;
    case "chooseAction":
      return { ...state, showActions: false, pendingAction: action.action };
    case "cancelAction":
      return { ...state, pendingAction: null };
    case "actionDone":
      return { ...state, pendingAction: null, selection: NOTHING_SELECTED, reloadCount: state.reloadCount + 1 };

    case "toggleFilters":
      return { ...state, showFilters: !state.showFilters };
    case "toggleColumns":
      return { ...state, showColumns: !state.showColumns };
    case "closeColumns":
      return state.showColumns ? { ...state, showColumns: false } : state;
    case "preview":
      return { ...state, previewId: action.taskId };
  }
}

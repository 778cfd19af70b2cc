import { describe, expect, it } from "vitest";

import type { Action, Column, View, ViewData } from "../../api/dm";
import type { TaskPage } from "../../api/tasks";
import {
  activeViewOf,
  ALL_TASKS,
  currentPage,
  filtersOf,
  headerState,
  initialState,
  isSelected,
  nextOrdering,
  NOTHING_SELECTED,
  reducer,
  selectedCount,
  selectedItems,
  stateFromView,
  viewData,
  viewTitle,
  type DataManagerAction,
  type DataManagerState,
  type Selection,
  type TabState,
} from "./dataManagerState";

const COLUMNS: Column[] = [
  { id: "id", title: "ID", type: "Number", target: "tasks", project_defined: false },
  {
    id: "inner_id",
    title: "Inner ID",
    type: "Number",
    target: "tasks",
    visibility_defaults: { explore: false, labeling: false },
    project_defined: false,
  },
  { id: "cancelled_annotations", title: "Cancelled", type: "Number", target: "tasks", project_defined: false },
  { id: "data", title: "data", type: "List", target: "tasks", children: ["text"], project_defined: false },
  { id: "text", title: "text", type: "Text", target: "tasks", parent: "data", project_defined: false },
];

const DELETE: Action = {
  id: "delete_tasks",
  title: "Delete Tasks",
  order: 100,
  permission: "tasks.delete",
  dialog: { text: "You are going to delete the selected tasks.", type: "confirm" },
};

function view(id: number, data: ViewData = {}): View {
  return { id, data, order: 0, user: 1, project: 1 };
}

const TENS = view(5, {
  title: "Tens",
  filters: {
    conjunction: "or",
    items: [{ filter: "filter:tasks:data.text", operator: "contains", type: "String", value: "review 1" }],
  },
  ordering: ["-tasks:id"],
  hiddenColumns: { explore: ["tasks:cancelled_annotations"], labeling: [] },
});

function page(total: number, ids: number[] = []): TaskPage {
  return {
    tasks: ids.map((id) => ({ id }) as TaskPage["tasks"][number]),
    total,
    total_annotations: 0,
    total_predictions: 0,
  };
}

function run(state: DataManagerState, ...actions: DataManagerAction[]): DataManagerState {
  return actions.reduce(reducer, state);
}

/** The state once columns, views and actions have loaded, with nothing stored. */
function loaded(views: View[] = [TENS], allTasksTab: TabState | null = null): DataManagerState {
  return run(initialState, { type: "setupLoaded", columns: COLUMNS, views, actions: [DELETE], allTasksTab });
}

describe("initialState", () => {
  it("starts on All tasks, page 1 of 30, with nothing loaded, selected or open", () => {
    expect(initialState).toMatchObject({
      columns: null,
      views: [],
      activeTab: ALL_TASKS,
      paging: { page: 1, queryKey: "" },
      pageSize: 30,
      result: null,
      loading: false,
      selection: NOTHING_SELECTED,
      previewId: null,
      showFilters: false,
      showColumns: false,
      showActions: false,
      pendingAction: null,
      renaming: null,
      deleting: null,
    });
  });
});

describe("setup", () => {
  it("takes the columns, views and actions, and starts All tasks with the default hidden columns", () => {
    const state = loaded();
    expect(state.columns).toBe(COLUMNS);
    expect(state.views).toEqual([TENS]);
    expect(state.actions).toEqual([DELETE]);
    const fresh: TabState = { rows: [], conjunction: "and", ordering: [], hidden: ["tasks:inner_id"] };
    expect(state.tab).toEqual(fresh);
    expect(state.allTasksTab).toEqual(fresh);
  });

  it("starts All tasks as this browser stored it", () => {
    const stored: TabState = {
      rows: [{ column: "tasks:id", operator: "greater", text: "3" }],
      conjunction: "or",
      ordering: ["tasks:id"],
      hidden: [],
    };
    const state = loaded([], stored);
    expect(state.tab).toBe(stored);
    expect(state.allTasksTab).toBe(stored);
  });

  it("keeps the error when loading fails", () => {
    const error = new Error("offline");
    expect(reducer(initialState, { type: "setupFailed", error }).setupError).toBe(error);
  });
});

describe("loading a page", () => {
  it("marks loading and clears the last error, then takes the page", () => {
    let state: DataManagerState = { ...loaded(), loadError: new Error("before") };
    state = reducer(state, { type: "loadStarted" });
    expect(state.loading).toBe(true);
    expect(state.loadError).toBeNull();
    const result = page(12, [1, 2, 3]);
    state = reducer(state, { type: "loadSucceeded", result });
    expect(state.loading).toBe(false);
    expect(state.result).toBe(result);
  });

  it("keeps the error, and the last page shown, when loading fails", () => {
    const result = page(12, [1]);
    const error = new Error("500");
    const state = run(
      loaded(),
      { type: "loadSucceeded", result },
      { type: "loadStarted" },
      { type: "loadFailed", error },
    );
    expect(state.loading).toBe(false);
    expect(state.loadError).toBe(error);
    expect(state.result).toBe(result);
  });

  it("goes back to page 1 of the same query when the page went away", () => {
    const state = run(
      loaded(),
      { type: "setPage", page: 3, queryKey: "q" },
      { type: "loadStarted" },
      { type: "pageGone", queryKey: "q" },
    );
    expect(state.loading).toBe(false);
    expect(state.loadError).toBeNull();
    expect(currentPage(state, "q")).toBe(1);
  });

  it("counts reloads", () => {
    expect(run(loaded(), { type: "reload" }, { type: "reload" }).reloadCount).toBe(2);
  });
});

describe("paging", () => {
  it("shows the page set for the current query", () => {
    const state = reducer(loaded(), { type: "setPage", page: 2, queryKey: "q1" });
    expect(state.paging).toEqual({ page: 2, queryKey: "q1" });
    expect(currentPage(state, "q1")).toBe(2);
  });

  it("starts another query on page 1", () => {
    const state = reducer(loaded(), { type: "setPage", page: 2, queryKey: "q1" });
    expect(currentPage(state, "q2")).toBe(1);
    expect(currentPage(initialState, "anything")).toBe(1);
  });

  it("goes back to page 1 when the page size changes", () => {
    const state = run(
      loaded(),
      { type: "setPage", page: 4, queryKey: "q" },
      { type: "setPageSize", pageSize: 10, queryKey: "q" },
    );
    expect(state.pageSize).toBe(10);
    expect(currentPage(state, "q")).toBe(1);
  });
});

describe("ordering", () => {
  it("cycles a column ascending, descending, then unordered", () => {
    expect(nextOrdering([], "tasks:id")).toEqual(["tasks:id"]);
    expect(nextOrdering(["tasks:id"], "tasks:id")).toEqual(["-tasks:id"]);
    expect(nextOrdering(["-tasks:id"], "tasks:id")).toEqual([]);
  });

  it("orders by one column at a time", () => {
    expect(nextOrdering(["-tasks:id"], "tasks:data.text")).toEqual(["tasks:data.text"]);
  });

  it("changes only the active tab's ordering", () => {
    const before = loaded();
    let state = reducer(before, { type: "toggleOrdering", key: "tasks:data.text" });
    expect(state.tab.ordering).toEqual(["tasks:data.text"]);
    expect(state.tab.rows).toBe(before.tab.rows);
    state = reducer(state, { type: "toggleOrdering", key: "tasks:data.text" });
    expect(state.tab.ordering).toEqual(["-tasks:data.text"]);
    expect(reducer(state, { type: "toggleOrdering", key: "tasks:data.text" }).tab.ordering).toEqual([]);
  });
});

describe("filters and columns", () => {
  it("sets the filter rows and how they join", () => {
    const rows = [{ column: "tasks:data.text", operator: "contains", text: "review" }];
    const state = reducer(loaded(), { type: "setFilters", rows, conjunction: "or" });
    expect(state.tab.rows).toBe(rows);
    expect(state.tab.conjunction).toBe("or");
  });

  it("hides a shown column and shows a hidden one", () => {
    let state = reducer(loaded(), { type: "setColumnShown", key: "tasks:cancelled_annotations", shown: false });
    expect(state.tab.hidden).toEqual(["tasks:inner_id", "tasks:cancelled_annotations"]);
    state = reducer(state, { type: "setColumnShown", key: "tasks:inner_id", shown: true });
    expect(state.tab.hidden).toEqual(["tasks:cancelled_annotations"]);
  });

  it("turns the tab's rows into Label Studio filters, dropping rows of unknown columns", () => {
    const tab: TabState = {
      rows: [
        { column: "tasks:data.text", operator: "contains", text: " review 1 " },
        { column: "tasks:id", operator: "greater", text: "4" },
        { column: "tasks:gone", operator: "equal", text: "x" },
        { column: "tasks:id", operator: "equal", text: "" },
      ],
      conjunction: "or",
      ordering: [],
      hidden: [],
    };
    expect(filtersOf(tab, COLUMNS)).toEqual({
      conjunction: "or",
      items: [
        { filter: "filter:tasks:data.text", operator: "contains", type: "String", value: "review 1" },
        { filter: "filter:tasks:id", operator: "greater", type: "Number", value: 4 },
        { filter: "filter:tasks:id", operator: "equal", type: "Number", value: null },
      ],
    });
  });
});

describe("views", () => {
  it("reads a saved view's filters, ordering and hidden columns", () => {
    expect(stateFromView(TENS.data, COLUMNS)).toEqual({
      rows: [{ column: "tasks:data.text", operator: "contains", text: "review 1" }],
      conjunction: "or",
      ordering: ["-tasks:id"],
      hidden: ["tasks:cancelled_annotations"],
    });
    // A view saved with nothing has no filters, no ordering and the default columns.
    expect(stateFromView({}, COLUMNS)).toEqual({
      rows: [],
      conjunction: "and",
      ordering: [],
      hidden: ["tasks:inner_id"],
    });
  });

  it("writes a tab as a view's data, and reads it back the same", () => {
    const tab = stateFromView(TENS.data, COLUMNS);
    const data = viewData("Tens", tab, COLUMNS);
    expect(data).toEqual({
      title: "Tens",
      filters: TENS.data.filters,
      ordering: ["-tasks:id"],
      hiddenColumns: { explore: ["tasks:cancelled_annotations"], labeling: [] },
    });
    expect(stateFromView(data, COLUMNS)).toEqual(tab);
  });

  it("titles a view by its title, or by its id", () => {
    expect(viewTitle(TENS)).toBe("Tens");
    expect(viewTitle(view(8))).toBe("View 8");
    expect(viewTitle(view(9, { title: "" }))).toBe("View 9");
  });

  it("switches to a saved view, keeping All tasks' state to come back to", () => {
    const edited = run(loaded(), { type: "toggleOrdering", key: "tasks:id" }, { type: "preview", taskId: 3 });
    const state = reducer(edited, { type: "switchTab", id: "5" });
    expect(state.activeTab).toBe("5");
    expect(activeViewOf(state)).toBe(TENS);
    expect(state.tab).toEqual(stateFromView(TENS.data, COLUMNS));
    expect(state.allTasksTab).toBe(edited.tab);
    expect(state.previewId).toBeNull();

    const back = reducer(state, { type: "switchTab", id: ALL_TASKS });
    expect(back.activeTab).toBe(ALL_TASKS);
    expect(activeViewOf(back)).toBeNull();
    expect(back.tab).toBe(edited.tab);
    expect(back.tab.ordering).toEqual(["tasks:id"]);
  });

  it("does not overwrite All tasks' state when leaving a saved view", () => {
    const onView = run(loaded([TENS, view(6)]), { type: "switchTab", id: "5" });
    const allTasks = onView.allTasksTab;
    const state = run(onView, { type: "toggleOrdering", key: "tasks:id" }, { type: "switchTab", id: "6" });
    expect(state.allTasksTab).toBe(allTasks);
    expect(state.tab).toEqual(stateFromView({}, COLUMNS));
  });

  it("switches nowhere before the columns have loaded", () => {
    expect(reducer(initialState, { type: "switchTab", id: "5" })).toBe(initialState);
  });

  it("adds a created view as a tab and shows it", () => {
    const created = view(11, viewData("View 2", loaded().tab, COLUMNS));
    const before = reducer(loaded(), { type: "toggleOrdering", key: "tasks:id" });
    const state = reducer(before, { type: "viewCreated", view: created });
    expect(state.views).toEqual([TENS, created]);
    expect(state.activeTab).toBe("11");
    expect(state.tab).toEqual(stateFromView(created.data, COLUMNS));
    expect(state.allTasksTab).toBe(before.tab);
  });

  it("takes a saved view's answer in place of the old one", () => {
    const saved = view(5, { ...TENS.data, ordering: [] });
    const state = reducer(loaded([view(4), TENS]), { type: "viewSaved", view: saved });
    expect(state.views).toEqual([view(4), saved]);
  });

  it("renames a view and closes the dialog", () => {
    let state = reducer(loaded(), { type: "startRename", view: TENS });
    expect(state.renaming).toBe(TENS);
    expect(state.newTitle).toBe("Tens");
    state = reducer(state, { type: "setNewTitle", title: "Teens" });
    expect(state.newTitle).toBe("Teens");
    const renamed = view(5, { ...TENS.data, title: "Teens" });
    state = reducer(state, { type: "viewRenamed", view: renamed });
    expect(state.views).toEqual([renamed]);
    expect(state.renaming).toBeNull();
  });

  it("cancels a rename", () => {
    const state = run(loaded(), { type: "startRename", view: TENS }, { type: "cancelRename" });
    expect(state.renaming).toBeNull();
    expect(state.views).toEqual([TENS]);
  });

  it("deletes the shown view and goes back to All tasks as it was", () => {
    const sorted = reducer(loaded(), { type: "toggleOrdering", key: "tasks:id" });
    let state = run(sorted, { type: "switchTab", id: "5" }, { type: "startDelete", view: TENS });
    expect(state.deleting).toBe(TENS);
    state = reducer(state, { type: "viewDeleted", id: 5 });
    expect(state.views).toEqual([]);
    expect(state.deleting).toBeNull();
    expect(state.activeTab).toBe(ALL_TASKS);
    expect(state.tab).toBe(sorted.tab);
  });

  it("cancels a delete", () => {
    const state = run(loaded(), { type: "startDelete", view: TENS }, { type: "cancelDelete" });
    expect(state.deleting).toBeNull();
    expect(state.views).toEqual([TENS]);
  });

  it("shows and clears why a view could not be saved", () => {
    const error = new Error("conflict");
    let state = reducer(loaded(), { type: "setViewError", error });
    expect(state.viewError).toBe(error);
    state = reducer(state, { type: "setViewError", error: null });
    expect(state.viewError).toBeNull();
  });
});

describe("selection", () => {
  const some = (ids: number[], all = false): Selection => ({ all, ids: new Set(ids) });

  it("ticks and unticks single rows", () => {
    let state = run(loaded(), { type: "toggleRow", taskId: 3 }, { type: "toggleRow", taskId: 4 });
    expect([...state.selection.ids]).toEqual([3, 4]);
    expect(state.selection.all).toBe(false);
    state = reducer(state, { type: "toggleRow", taskId: 3 });
    expect([...state.selection.ids]).toEqual([4]);
  });

  it("never changes the selection it was given", () => {
    const before = reducer(loaded(), { type: "toggleRow", taskId: 3 });
    reducer(before, { type: "toggleRow", taskId: 4 });
    expect([...before.selection.ids]).toEqual([3]);
    expect(NOTHING_SELECTED.ids.size).toBe(0);
  });

  it("selects every task under the filters, then unticks rows as exceptions", () => {
    let state = reducer(loaded(), { type: "selectAll" });
    expect(state.selection.all).toBe(true);
    expect(headerState(state.selection, 12)).toBe("all");
    expect(selectedCount(state.selection, 12)).toBe(12);
    state = reducer(state, { type: "toggleRow", taskId: 7 });
    expect(isSelected(state.selection, 7)).toBe(false);
    expect(isSelected(state.selection, 8)).toBe(true);
    expect(selectedCount(state.selection, 12)).toBe(11);
    expect(headerState(state.selection, 12)).toBe("some");
    expect(selectedItems(state.selection)).toEqual({ all: true, excluded: [7] });
  });

  it("clears the selection, and leaves the state alone when nothing is selected", () => {
    const state = run(loaded(), { type: "toggleRow", taskId: 3 }, { type: "clearSelection" });
    expect(state.selection).toBe(NOTHING_SELECTED);
    expect(reducer(state, { type: "clearSelection" })).toBe(state);
  });

  it("counts and describes a selection", () => {
    expect(selectedCount(NOTHING_SELECTED, 12)).toBe(0);
    expect(headerState(NOTHING_SELECTED, 12)).toBe("none");
    expect(selectedCount(some([1, 2]), 12)).toBe(2);
    expect(headerState(some([1, 2]), 12)).toBe("some");
    expect(isSelected(some([1, 2]), 2)).toBe(true);
    expect(isSelected(some([1, 2]), 3)).toBe(false);
    expect(selectedItems(some([1, 2]))).toEqual({ all: false, included: [1, 2] });
    // "All but these" never counts below zero, and all of nothing is nothing.
    expect(selectedCount(some([1, 2, 3], true), 2)).toBe(0);
    expect(headerState(some([], true), 0)).toBe("none");
  });
});

describe("bulk actions", () => {
  it("opens and closes the actions menu", () => {
    let state = reducer(loaded(), { type: "toggleActions" });
    expect(state.showActions).toBe(true);
    state = reducer(state, { type: "toggleActions" });
    expect(state.showActions).toBe(false);
    state = run(state, { type: "toggleActions" }, { type: "closeActions" });
    expect(state.showActions).toBe(false);
    expect(reducer(state, { type: "closeActions" })).toBe(state);
  });

  it("closes the menu and asks to confirm the chosen action", () => {
    const state = run(loaded(), { type: "toggleActions" }, { type: "chooseAction", action: DELETE });
    expect(state.showActions).toBe(false);
    expect(state.pendingAction).toBe(DELETE);
    expect(reducer(state, { type: "cancelAction" }).pendingAction).toBeNull();
  });

  it("after an action: closes the dialog, clears the selection and loads the page again", () => {
    const before = run(
      loaded(),
      { type: "toggleRow", taskId: 1 },
      { type: "chooseAction", action: DELETE },
    );
    const state = reducer(before, { type: "actionDone" });
    expect(state.pendingAction).toBeNull();
    expect(state.selection).toBe(NOTHING_SELECTED);
    expect(state.reloadCount).toBe(before.reloadCount + 1);
  });
});

describe("toolbar and preview", () => {
  it("toggles the filter panel", () => {
    const state = reducer(loaded(), { type: "toggleFilters" });
    expect(state.showFilters).toBe(true);
    expect(reducer(state, { type: "toggleFilters" }).showFilters).toBe(false);
  });

  it("opens and closes the columns menu", () => {
    const state = reducer(loaded(), { type: "toggleColumns" });
    expect(state.showColumns).toBe(true);
    const closed = reducer(state, { type: "closeColumns" });
    expect(closed.showColumns).toBe(false);
    expect(reducer(closed, { type: "closeColumns" })).toBe(closed);
  });

  it("previews a task and closes the preview", () => {
    const state = reducer(loaded(), { type: "preview", taskId: 42 });
    expect(state.previewId).toBe(42);
    expect(reducer(state, { type: "preview", taskId: null }).previewId).toBeNull();
  });
});

describe("purity", () => {
  it("never changes the state it is given", () => {
    const before = loaded();
    const snapshot = JSON.stringify({ ...before, selection: [...before.selection.ids] });
    run(
      before,
      { type: "toggleOrdering", key: "tasks:id" },
      { type: "setColumnShown", key: "tasks:id", shown: false },
      { type: "switchTab", id: "5" },
      { type: "viewDeleted", id: 5 },
      { type: "toggleRow", taskId: 1 },
    );
    expect(JSON.stringify({ ...before, selection: [...before.selection.ids] })).toBe(snapshot);
  });
});

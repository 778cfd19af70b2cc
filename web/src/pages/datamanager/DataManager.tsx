/**
 * The data manager: the project's tasks one server page at a time (it never asks for the
 * whole list, so it stays quick at a million tasks), with Label Studio's filters and
 * ordering, saved views as tabs, a task preview, and bulk actions on a selection.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate } from "react-router-dom";

import { ApiError } from "../../api/client";
import {
  activeFilters,
  columnKey,
  createView,
  deleteView,
  listActions,
  listColumns,
  listTaskPage,
  listViews,
  runAction,
  updateView,
  type Action,
  type Column,
  type Filters,
  type SelectedItems,
  type TaskQuery,
  type View,
  type ViewData,
} from "../../api/dm";
import type { TaskPage, TaskRow } from "../../api/tasks";
import { useProject } from "../../layout";
import {
  Button,
  ConfirmDialog,
  EmptyState,
  ErrorList,
  formatDateTime,
  LoadingBlock,
  Modal,
  Pagination,
  Tabs,
  TextInput,
  useDebounced,
  useToast,
} from "../../ui";
import {
  columnLabel,
  columnPath,
  defaultHidden,
  fromFilterItem,
  isDataColumn,
  isOrderable,
  tableColumns,
  toFilterItem,
  type FilterRow,
} from "./columns";
import { FilterPanel } from "./FilterPanel";
import { TaskPreview } from "./TaskPreview";
import "./datamanager.css";

const PAGE_SIZES = [10, 30, 50, 100];
const ALL_TASKS = "all";

/** What a tab holds: its filters, ordering and hidden columns. */
interface TabState {
  rows: FilterRow[];
  conjunction: "and" | "or";
  ordering: string[];
  hidden: string[];
}

interface Selection {
  /** true: every task under the filters except `ids`; false: only `ids`. */
  all: boolean;
  ids: Set<number>;
}

const NOTHING_SELECTED: Selection = { all: false, ids: new Set() };

function stateFromView(data: ViewData, columns: Column[]): TabState {
  return {
    rows: (data.filters?.items ?? []).map(fromFilterItem),
    conjunction: data.filters?.conjunction === "or" ? "or" : "and",
    ordering: data.ordering ?? [],
    hidden: data.hiddenColumns?.explore ?? defaultHidden(columns),
  };
}

function filtersOf(state: TabState, columns: Column[]): Filters {
  const byKey = new Map(columns.map((column) => [columnKey(column), column]));
  return {
    conjunction: state.conjunction,
    items: state.rows.flatMap((row) => {
      const column = byKey.get(row.column);
      return column ? [toFilterItem(row, column)] : [];
    }),
  };
}

function viewData(title: string, state: TabState, columns: Column[]): ViewData {
  return {
    title,
    filters: filtersOf(state, columns),
    ordering: state.ordering,
    hiddenColumns: { explore: state.hidden, labeling: [] },
  };
}

function allTasksKey(projectId: number): string {
  return `labelops.datamanager.${projectId}.all-tasks`;
}

function storedAllTasksState(projectId: number): TabState | null {
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

function storeAllTasksState(projectId: number, state: TabState): void {
  try {
    window.localStorage.setItem(allTasksKey(projectId), JSON.stringify(state));
  } catch {
    // Storage may be full or disabled; the tab then starts afresh next time.
  }
}

function counted(count: number, noun: string): string {
  return `${count.toLocaleString()} ${noun}${count === 1 ? "" : "s"}`;
}

/** Closes a popup menu on a click outside its anchor or on Escape. */
function useDismiss(open: boolean, close: () => void) {
  const anchor = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const onPointer = (event: MouseEvent) => {
      if (anchor.current && !anchor.current.contains(event.target as Node)) close();
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") close();
    };
    document.addEventListener("mousedown", onPointer);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onPointer);
      document.removeEventListener("keydown", onKey);
    };
  }, [open, close]);
  return anchor;
}

function viewTitle(view: View): string {
  return typeof view.data.title === "string" && view.data.title ? view.data.title : `View ${view.id}`;
}

function Cell({ row, column }: { row: TaskRow; column: Column }) {
  const value = isDataColumn(column) ? row.data?.[column.id] : row[column.id];
  if (value === null || value === undefined || value === "") return <span className="muted">—</span>;
  if (isDataColumn(column) && column.type === "Image" && typeof value === "string") {
    return <img className="dm-thumb" src={value} alt={`Task ${row.id} ${column.id}`} loading="lazy" />;
  }
  if (column.type === "Datetime" && typeof value === "string") {
    return <span className="dm-nowrap">{formatDateTime(value)}</span>;
  }
  if (column.id === "updated_by" && Array.isArray(value)) {
    return <>{value.map((entry) => `#${(entry as { user_id: number }).user_id}`).join(", ")}</>;
  }
  if (Array.isArray(value)) return <>{value.map((entry) => (typeof entry === "number" ? `#${entry}` : String(entry))).join(", ")}</>;
  if (typeof value === "object") return <span className="dm-clip">{JSON.stringify(value)}</span>;
  if (typeof value === "boolean") return <>{value ? "yes" : "no"}</>;
  return <span className="dm-clip" title={String(value)}>{String(value)}</span>;
}

export default function DataManager() {
  const { project, reload: reloadProject } = useProject();
  const projectId = project.id;
  const navigate = useNavigate();
  const toast = useToast();

  const [columns, setColumns] = useState<Column[] | null>(null);
  const [views, setViews] = useState<View[]>([]);
  const [actions, setActions] = useState<Action[]>([]);
  const [setupError, setSetupError] = useState<unknown>(null);
  const [activeTab, setActiveTab] = useState<string>(ALL_TASKS);
  const [tab, setTab] = useState<TabState>({ rows: [], conjunction: "and", ordering: [], hidden: [] });
  /** The page number, and the query it belongs to: another query starts on page 1. */
  const [paging, setPaging] = useState({ page: 1, queryKey: "" });
  const [pageSize, setPageSize] = useState(30);
  const [result, setResult] = useState<TaskPage | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [reloadCount, setReloadCount] = useState(0);
  const [selection, setSelection] = useState<Selection>(NOTHING_SELECTED);
  const [previewId, setPreviewId] = useState<number | null>(null);
  const [showFilters, setShowFilters] = useState(false);
  const [showColumns, setShowColumns] = useState(false);
  const [showActions, setShowActions] = useState(false);
  const [pendingAction, setPendingAction] = useState<Action | null>(null);
  const [renaming, setRenaming] = useState<View | null>(null);
  const [newTitle, setNewTitle] = useState("");
  const [deleting, setDeleting] = useState<View | null>(null);
  const [viewError, setViewError] = useState<unknown>(null);
  const columnsMenu = useDismiss(showColumns, useCallback(() => setShowColumns(false), []));
  const actionsMenu = useDismiss(showActions, useCallback(() => setShowActions(false), []));
  /** Tab states of the built-in "All tasks" tab, kept while the page is open. */
  const allTasksState = useRef<TabState | null>(null);

  // Columns, views and actions once per project.
  useEffect(() => {
    const controller = new AbortController();
    Promise.all([
      listColumns(projectId, controller.signal),
      listViews(projectId, controller.signal),
      listActions(projectId, controller.signal),
    ])
      .then(([found, savedViews, foundActions]) => {
        setColumns(found);
        setViews(savedViews);
        setActions(foundActions);
        const initial = storedAllTasksState(projectId) ?? {
          rows: [],
          conjunction: "and" as const,
          ordering: [],
          hidden: defaultHidden(found),
        };
        allTasksState.current = initial;
        setTab(initial);
      })
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setSetupError(caught);
      });
    return () => controller.abort();
  }, [projectId]);

  const filters = useMemo(() => (columns ? filtersOf(tab, columns) : undefined), [columns, tab]);
  const query: TaskQuery = useMemo(() => ({ filters, ordering: tab.ordering }), [filters, tab.ordering]);
  // Typing in a filter value waits for a pause before asking the server.
  const debouncedQuery = useDebounced(query, 300);
  const queryKey = JSON.stringify(debouncedQuery);

  const page = paging.queryKey === queryKey ? paging.page : 1;
  const setPage = useCallback((next: number) => setPaging({ page: next, queryKey }), [queryKey]);

  // One page of tasks whenever the page, its size, the query or a reload asks for it.
  useEffect(() => {
    if (!columns) return;
    const controller = new AbortController();
    setLoading(true);
    setLoadError(null);
    listTaskPage(projectId, page, pageSize, JSON.parse(queryKey) as TaskQuery, controller.signal)
      .then((found) => {
        setResult(found);
        setLoading(false);
      })
      .catch((caught: unknown) => {
        if (controller.signal.aborted) return;
        setLoading(false);
        // The page went away (tasks were deleted): show the first one instead.
        if (caught instanceof ApiError && caught.status === 404 && page > 1) {
          setPage(1);
          return;
        }
        setLoadError(caught);
      });
    return () => controller.abort();
  }, [columns, projectId, page, pageSize, queryKey, reloadCount, setPage]);

  // A new query starts with nothing selected.
  useEffect(() => {
    setSelection(NOTHING_SELECTED);
  }, [queryKey]);

  // A saved view keeps what its tab shows; edits are saved after a pause.
  const activeView = views.find((view) => String(view.id) === activeTab) ?? null;
  /** Saves a view's tab state unless the view already holds exactly that. */
  const saveView = (view: View, state: TabState) => {
    if (!columns) return;
    const data = viewData(viewTitle(view), state, columns);
    const stored = viewData(viewTitle(view), stateFromView(view.data, columns), columns);
    if (JSON.stringify(data) === JSON.stringify(stored)) return;
    updateView(view, data)
      .then((saved) => setViews((current) => current.map((each) => (each.id === saved.id ? saved : each))))
      .catch((caught: unknown) => setViewError(caught));
  };
  const savedTab = useDebounced(tab, 600);
  useEffect(() => {
    if (activeView) saveView(activeView, savedTab);
    // Only a change of the tab's content saves; switching tabs saves at once (below).
  }, [savedTab]);

  // The "All tasks" tab is this browser's own: its filters, order and columns stay here.
  useEffect(() => {
    if (columns && activeTab === ALL_TASKS) storeAllTasksState(projectId, tab);
  }, [columns, activeTab, projectId, tab]);

  const switchTab = (id: string) => {
    if (!columns) return;
    if (activeTab === ALL_TASKS) allTasksState.current = tab;
    if (activeView) saveView(activeView, tab);
    setActiveTab(id);
    const view = views.find((candidate) => String(candidate.id) === id);
    setTab(view ? stateFromView(view.data, columns) : (allTasksState.current ?? tab));
    setPreviewId(null);
  };

  const addView = async () => {
    if (!columns) return;
    setViewError(null);
    try {
      const created = await createView(projectId, viewData(`View ${views.length + 1}`, tab, columns));
      setViews((current) => [...current, created]);
      if (activeTab === ALL_TASKS) allTasksState.current = tab;
      setActiveTab(String(created.id));
      setTab(stateFromView(created.data, columns));
    } catch (caught) {
      setViewError(caught);
    }
  };

  const renameView = async () => {
    if (!renaming || !columns) return;
    const saved = await updateView(renaming, { ...viewData(newTitle.trim(), tab, columns) });
    setViews((current) => current.map((view) => (view.id === saved.id ? saved : view)));
    setRenaming(null);
  };

  const removeView = async () => {
    if (!deleting) return;
    await deleteView(deleting.id);
    setViews((current) => current.filter((view) => view.id !== deleting.id));
    setDeleting(null);
    setActiveTab(ALL_TASKS);
    setTab(allTasksState.current ?? tab);
  };

  const toggleOrdering = (column: Column) => {
    const key = columnKey(column);
    const current = tab.ordering[0];
    let next: string[] = [key];
    if (current === key) next = [`-${key}`];
    else if (current === `-${key}`) next = [];
    setTab({ ...tab, ordering: next });
  };

  const tasks = result?.tasks ?? [];
  const total = result?.total ?? 0;
  const selectedCount = selection.all ? Math.max(0, total - selection.ids.size) : selection.ids.size;
  const isSelected = (taskId: number) => (selection.all ? !selection.ids.has(taskId) : selection.ids.has(taskId));
  const toggleRow = (taskId: number) =>
    setSelection((current) => {
      const ids = new Set(current.ids);
      if (ids.has(taskId)) ids.delete(taskId);
      else ids.add(taskId);
      return { all: current.all, ids };
    });
  const selectedItems = (): SelectedItems =>
    selection.all
      ? { all: true, excluded: [...selection.ids] }
      : { all: false, included: [...selection.ids] };

  const runPendingAction = async () => {
    if (!pendingAction) return;
    const answer = await runAction(projectId, pendingAction.id, selectedItems(), query);
    toast.show(answer.detail ?? `${pendingAction.title}: done`, "success");
    setPendingAction(null);
    setSelection(NOTHING_SELECTED);
    setReloadCount((count) => count + 1);
    void reloadProject().catch(() => undefined);
  };

  const refresh = useCallback(() => {
    setReloadCount((count) => count + 1);
    void reloadProject().catch(() => undefined);
  }, [reloadProject]);

  if (setupError) {
    return (
      <main className="page">
        <ErrorList error={setupError} title="Could not load the data manager" />
      </main>
    );
  }
  if (!columns) {
    return (
      <main className="page">
        <LoadingBlock label="Loading tasks…" />
      </main>
    );
  }

  const shown = tableColumns(columns).filter((column) => !tab.hidden.includes(columnKey(column)));
  const activeFilterCount = filters?.items.filter((item) => item.value !== null && item.value !== "").length ?? 0;
  const headerState = selectedCount === 0 ? "none" : selection.all && selection.ids.size === 0 ? "all" : "some";

  return (
    <main className={`page dm-page${previewId !== null ? " dm-with-preview" : ""}`}>
      <Tabs
        label="Views"
        active={activeTab}
        onChange={switchTab}
        tabs={[
          { id: ALL_TASKS, label: "All tasks" },
          ...views.map((view) => ({ id: String(view.id), label: viewTitle(view) })),
        ]}
        trailing={
          <div className="button-row">
            <Button size="small" onClick={addView}>
              New view
            </Button>
            {activeView && (
              <>
                <Button
                  size="small"
                  onClick={() => {
                    setNewTitle(viewTitle(activeView));
                    setRenaming(activeView);
                  }}
                >
                  Rename view
                </Button>
                <Button size="small" variant="danger" onClick={() => setDeleting(activeView)}>
                  Delete view
                </Button>
              </>
            )}
          </div>
        }
      />
      <ErrorList error={viewError} title="The view could not be saved" />

      <div className="dm-toolbar">
        <div className="dm-toolbar-group">
          <Button
            size="small"
            aria-expanded={showFilters}
            aria-controls="dm-filter-panel"
            onClick={() => setShowFilters((open) => !open)}
          >
            Filters{activeFilterCount > 0 ? ` (${activeFilterCount})` : ""}
          </Button>
          <div className="dm-menu-anchor" ref={columnsMenu}>
            <Button size="small" aria-expanded={showColumns} onClick={() => setShowColumns((open) => !open)}>
              Columns
            </Button>
            {showColumns && (
              <fieldset className="dm-menu dm-columns-menu">
                <legend>Shown columns</legend>
                {tableColumns(columns).map((column) => {
                  const key = columnKey(column);
                  return (
                    <label key={key}>
                      <input
                        type="checkbox"
                        checked={!tab.hidden.includes(key)}
                        onChange={(event) =>
                          setTab({
                            ...tab,
                            hidden: event.target.checked
                              ? tab.hidden.filter((hidden) => hidden !== key)
                              : [...tab.hidden, key],
                          })
                        }
                      />
                      {columnLabel(column)}
                    </label>
                  );
                })}
              </fieldset>
            )}
          </div>
          <div className="dm-menu-anchor" ref={actionsMenu}>
            <Button
              size="small"
              disabled={selectedCount === 0 || actions.length === 0}
              aria-expanded={showActions}
              aria-haspopup="menu"
              onClick={() => setShowActions((open) => !open)}
            >
              Actions{selectedCount > 0 ? ` (${selectedCount.toLocaleString()} selected)` : ""}
            </Button>
            {showActions && selectedCount > 0 && (
              <div className="dm-menu" role="menu" aria-label="Bulk actions">
                {actions.map((action) => (
                  <button
                    key={action.id}
                    type="button"
                    role="menuitem"
                    className="dm-menu-item"
                    onClick={() => {
                      setShowActions(false);
                      setPendingAction(action);
                    }}
                  >
                    {action.title}
                  </button>
                ))}
              </div>
            )}
          </div>
          <Button size="small" variant="ghost" onClick={refresh}>
            Refresh
          </Button>
        </div>
        <div className="dm-toolbar-group">
          <span className="dm-totals" role="status" aria-label="Task totals">
            {counted(total, "task")} · {counted(result?.total_annotations ?? 0, "annotation")} ·{" "}
            {counted(result?.total_predictions ?? 0, "prediction")}
          </span>
          <Button variant="primary" size="small" onClick={() =>
              navigate(`/projects/${projectId}/label`, {
                state: { selection: { filters: activeFilters(query.filters), ordering: query.ordering } },
              })
            }>
            Label all tasks
          </Button>
        </div>
      </div>

      {showFilters && (
        <div id="dm-filter-panel">
          <FilterPanel
            columns={columns}
            rows={tab.rows}
            conjunction={tab.conjunction}
            onChange={(rows, conjunction) => setTab({ ...tab, rows, conjunction })}
          />
        </div>
      )}

      <ErrorList error={loadError} title="Could not load tasks" />

      <div className="dm-body">
        <div className="dm-table-area">
          {result && total === 0 && activeFilterCount === 0 ? (
            <EmptyState
              title="No tasks yet"
              action={
                <Link className="btn btn-primary" to={`/projects/${projectId}/import`}>
                  Import tasks
                </Link>
              }
            >
              Import data to start labeling.
            </EmptyState>
          ) : (
            <div className="table-wrap" aria-busy={loading}>
              <table className="table dm-table" aria-label="Tasks">
                <thead>
                  <tr>
                    <th className="dm-check">
                      <input
                        type="checkbox"
                        aria-label="Select all tasks"
                        checked={headerState === "all"}
                        ref={(input) => {
                          if (input) input.indeterminate = headerState === "some";
                        }}
                        onChange={() =>
                          setSelection(headerState === "none" ? { all: true, ids: new Set() } : NOTHING_SELECTED)
                        }
                      />
                    </th>
                    {shown.map((column) => {
                      const key = columnKey(column);
                      const direction =
                        tab.ordering[0] === key ? "ascending" : tab.ordering[0] === `-${key}` ? "descending" : undefined;
                      return (
                        <th key={key} aria-sort={direction ?? "none"} scope="col" title={column.help}>
                          {isOrderable(column) ? (
                            <button
                              type="button"
                              className="dm-sort"
                              aria-label={`Order by ${columnLabel(column)}`}
                              onClick={() => toggleOrdering(column)}
                            >
                              {columnLabel(column)}
                              <span aria-hidden="true">
                                {direction === "ascending" ? " ▲" : direction === "descending" ? " ▼" : ""}
                              </span>
                            </button>
                          ) : (
                            columnLabel(column)
                          )}
                        </th>
                      );
                    })}
                    <th scope="col">
                      <span className="visually-hidden">Task actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {tasks.map((row) => (
                    <tr
                      key={row.id}
                      className={previewId === row.id ? "dm-row-active" : undefined}
                      data-task-id={row.id}
                    >
                      <td className="dm-check">
                        <input
                          type="checkbox"
                          aria-label={`Select task ${row.id}`}
                          checked={isSelected(row.id)}
                          onChange={() => toggleRow(row.id)}
                        />
                      </td>
                      {shown.map((column) => (
                        <td key={columnKey(column)} data-column={columnPath(column)}>
                          <Cell row={row} column={column} />
                        </td>
                      ))}
                      <td className="dm-row-actions">
                        <Button size="small" variant="ghost" aria-label={`Preview task ${row.id}`} onClick={() => setPreviewId(row.id)}>
                          Preview
                        </Button>
                        <Link
                          className="btn btn-small btn-secondary"
                          aria-label={`Label task ${row.id}`}
                          to={`/projects/${projectId}/label?task=${row.id}`}
                        >
                          Label
                        </Link>
                      </td>
                    </tr>
                  ))}
                  {result && tasks.length === 0 && (
                    <tr>
                      <td colSpan={shown.length + 2} className="muted">
                        No tasks match these filters.
                      </td>
                    </tr>
                  )}
                </tbody>
              </table>
            </div>
          )}
          <div className="dm-footer">
            <label className="dm-page-size">
              Page size{" "}
              <select
                className="input"
                value={pageSize}
                onChange={(event) => {
                  setPageSize(Number(event.target.value));
                  setPage(1);
                }}
              >
                {PAGE_SIZES.map((size) => (
                  <option key={size} value={size}>
                    {size}
                  </option>
                ))}
              </select>
            </label>
            <Pagination page={page} pageSize={pageSize} count={total} onPage={setPage} label="Task pages" />
          </div>
        </div>
        {previewId !== null && (
          <TaskPreview
            key={previewId}
            projectId={projectId}
            taskId={previewId}
            labelConfig={project.label_config}
            onClose={() => setPreviewId(null)}
          />
        )}
      </div>

      <ConfirmDialog
        open={pendingAction !== null}
        title={pendingAction?.dialog?.title ?? pendingAction?.title ?? ""}
        confirmLabel={pendingAction?.title ?? "Confirm"}
        onConfirm={runPendingAction}
        onClose={() => setPendingAction(null)}
      >
        <p>{pendingAction?.dialog?.text}</p>
        <p>
          <strong>{selectedCount.toLocaleString()}</strong> task{selectedCount === 1 ? "" : "s"} selected.
        </p>
      </ConfirmDialog>

      <Modal
        open={renaming !== null}
        title="Rename view"
        onClose={() => setRenaming(null)}
        footer={
          <>
            <Button onClick={() => setRenaming(null)}>Cancel</Button>
            <Button variant="primary" disabled={!newTitle.trim()} onClick={() => void renameView().catch(setViewError)}>
              Save
            </Button>
          </>
        }
      >
        <TextInput label="View name" value={newTitle} onChange={(event) => setNewTitle(event.target.value)} autoFocus />
      </Modal>

      <ConfirmDialog
        open={deleting !== null}
        title="Delete view"
        confirmLabel="Delete view"
        onConfirm={removeView}
        onClose={() => setDeleting(null)}
      >
        <p>The tab “{deleting ? viewTitle(deleting) : ""}” and its filters go away; the tasks stay.</p>
      </ConfirmDialog>
    </main>
  );
}

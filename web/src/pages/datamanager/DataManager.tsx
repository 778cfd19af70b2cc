/**
 * The data manager: the project's tasks one server page at a time (it never asks for the
 * whole list, so it stays quick at a million tasks), with Label Studio's filters and
 * ordering, saved views as tabs, a task preview, and bulk actions on a selection.
 *
 * This file renders; the state is `dataManagerState.ts` and the work is `useDataManager*.ts`.
 */
import { useCallback, useState } from "react";
import { Link, useNavigate } from "react-router-dom";

import { activeFilters, columnKey, type Column } from "../../api/dm";
import type { TaskRow } from "../../api/tasks";
import { useProject } from "../../layout";
import { PredictionJobProgress } from "../../ml/PredictionJobProgress";
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
} from "../../ui";
import { ASSIGN_ACTIONS, AssignFields, assignParams, type AssignChoice } from "./AssignFields";
import { columnLabel, columnPath, isDataColumn, isOrderable, tableColumns } from "./columns";
import {
  ALL_TASKS,
  headerState as headerStateOf,
  isSelected as isSelectedIn,
  PAGE_SIZES,
  selectedCount as selectedCountOf,
  viewTitle,
} from "./dataManagerState";
import { FilterPanel } from "./FilterPanel";
import { TaskPreview } from "./TaskPreview";
import { useDataManager } from "./useDataManager";
import { useDismiss } from "./useDismiss";
import "./datamanager.css";

function counted(count: number, noun: string): string {
  return `${count.toLocaleString()} ${noun}${count === 1 ? "" : "s"}`;
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
  const {
    state,
    dispatch,
    filters,
    query,
    page,
    setPage,
    setPageSize,
    activeView,
    switchTab,
    addView,
    renameView,
    removeView,
    runPendingAction,
    refresh,
    predictionJob,
    dismissPredictionJob,
  } = useDataManager(projectId, reloadProject);
  const {
    columns,
    views,
    actions,
    setupError,
    activeTab,
    tab,
    pageSize,
    result,
    loadError,
    loading,
    selection,
    previewId,
    showFilters,
    showColumns,
    showActions,
    pendingAction,
    renaming,
    newTitle,
    deleting,
    viewError,
  } = state;
  const [assignChoice, setAssignChoice] = useState<AssignChoice>({ type: "AN", users: [] });
  const assigning = pendingAction !== null && ASSIGN_ACTIONS.has(pendingAction.id);
  const columnsMenu = useDismiss(showColumns, useCallback(() => dispatch({ type: "closeColumns" }), [dispatch]));
  const actionsMenu = useDismiss(showActions, useCallback(() => dispatch({ type: "closeActions" }), [dispatch]));

  const tasks = result?.tasks ?? [];
  const total = result?.total ?? 0;
  const selectedCount = selectedCountOf(selection, total);
  const toggleOrdering = (column: Column) => dispatch({ type: "toggleOrdering", key: columnKey(column) });
  const setViewError = (caught: unknown) => dispatch({ type: "setViewError", error: caught });

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
  const headerState = headerStateOf(selection, total);

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
                  onClick={() => dispatch({ type: "startRename", view: activeView })}
                >
                  Rename view
                </Button>
                <Button
                  size="small"
                  variant="danger"
                  onClick={() => dispatch({ type: "startDelete", view: activeView })}
                >
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
            onClick={() => dispatch({ type: "toggleFilters" })}
          >
            Filters{activeFilterCount > 0 ? ` (${activeFilterCount})` : ""}
          </Button>
          <div className="dm-menu-anchor" ref={columnsMenu}>
            <Button size="small" aria-expanded={showColumns} onClick={() => dispatch({ type: "toggleColumns" })}>
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
                          dispatch({ type: "setColumnShown", key, shown: event.target.checked })
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
              onClick={() => dispatch({ type: "toggleActions" })}
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
                      setAssignChoice({ type: "AN", users: [] });
                      dispatch({ type: "chooseAction", action });
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
            onChange={(rows, conjunction) => dispatch({ type: "setFilters", rows, conjunction })}
          />
        </div>
      )}

      {predictionJob && (
        <PredictionJobProgress
          key={predictionJob.jobId}
          backendId={predictionJob.backendId}
          jobId={predictionJob.jobId}
          onFinished={refresh}
          onDismiss={dismissPredictionJob}
        />
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
                        onChange={() => dispatch({ type: headerState === "none" ? "selectAll" : "clearSelection" })}
                      />
                    </th>
                    {shown.map((column) => {
                      const key = columnKey(column);
                      const direction =
                        tab.ordering[0] === key ? "ascending" : tab.ordering[0] === `-${key}` ? "descending" : undefined;
                      return (
                        <th key={key} aria-sort={direction ?? "none"} scope="col" title={column.help ?? undefined}>
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
                          checked={isSelectedIn(selection, row.id)}
                          onChange={() => dispatch({ type: "toggleRow", taskId: row.id })}
                        />
                      </td>
                      {shown.map((column) => (
                        <td key={columnKey(column)} data-column={columnPath(column)}>
                          <Cell row={row} column={column} />
                        </td>
                      ))}
                      <td className="dm-row-actions">
                        <Button
                          size="small"
                          variant="ghost"
                          aria-label={`Preview task ${row.id}`}
                          onClick={() => dispatch({ type: "preview", taskId: row.id })}
                        >
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
                onChange={(event) => setPageSize(Number(event.target.value))}
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
            onClose={() => dispatch({ type: "preview", taskId: null })}
          />
        )}
      </div>

      <ConfirmDialog
        open={pendingAction !== null}
        title={pendingAction?.dialog?.title ?? pendingAction?.title ?? ""}
        confirmLabel={pendingAction?.title ?? "Confirm"}
        onConfirm={() => runPendingAction(assigning ? assignParams(assignChoice) : {})}
        onClose={() => dispatch({ type: "cancelAction" })}
      >
        <p>{pendingAction?.dialog?.text}</p>
        {assigning && <AssignFields choice={assignChoice} onChange={setAssignChoice} />}
        <p>
          <strong>{selectedCount.toLocaleString()}</strong> task{selectedCount === 1 ? "" : "s"} selected.
        </p>
      </ConfirmDialog>

      <Modal
        open={renaming !== null}
        title="Rename view"
        onClose={() => dispatch({ type: "cancelRename" })}
        footer={
          <>
            <Button onClick={() => dispatch({ type: "cancelRename" })}>Cancel</Button>
            <Button variant="primary" disabled={!newTitle.trim()} onClick={() => void renameView().catch(setViewError)}>
              Save
            </Button>
          </>
        }
      >
        <TextInput
          label="View name"
          value={newTitle}
          onChange={(event) => dispatch({ type: "setNewTitle", title: event.target.value })}
          autoFocus
        />
      </Modal>

      <ConfirmDialog
        open={deleting !== null}
        title="Delete view"
        confirmLabel="Delete view"
        onConfirm={removeView}
        onClose={() => dispatch({ type: "cancelDelete" })}
      >
        <p>The tab “{deleting ? viewTitle(deleting) : ""}” and its filters go away; the tasks stay.</p>
      </ConfirmDialog>
    </main>
  );
}

"""Data manager: saved views, the filtered and ordered task list, and the task selection
actions work on. Callers commit.

A "selection" is what the data manager sends: filters, an ordering and selectedItems,
either in the request or stored in a view. `prepare` resolves it once, checking access;
`task_scope` and `list_tasks` turn it into SQL through `filters`, so the list, the
actions and their counts always agree on which tasks are meant.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from labelops_common.auth.permissions import Action, can
from labelops_common.auth.policies import authorize
from labelops_common.auth.principal import Principal
from labelops_common.db import utcnow
from labelops_common.directory import ProjectDirectory, ProjectInfo
from labelops_common.http.errors import NotFound, ValidationFailed
from labelops_common.http.params import parse_optional_int
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from task_svc import access
from task_svc.agreement.models import TaskAgreement
from task_svc.assignments import service as assignments
from task_svc.comments import service as comments
from task_svc.counts import service as counts
from task_svc.datamanager import schemas
from task_svc.datamanager.filters import (
    FilterError,
    annotated_filter,
    compile_filters,
    compile_ordering,
    compile_selected_items,
    data_field_shape,
)
from task_svc.datamanager.metrics import LIST_QUERIES
from task_svc.datamanager.models import View
from task_svc.fieldindexes import service as fieldindexes
from task_svc.fieldindexes.schemas import DataFieldShape
from task_svc.imports.models import FileUpload
from task_svc.reviews.models import AnnotationReview
from task_svc.tasks import service as tasks
from task_svc.tasks.models import Task

DEFAULT_PAGE_SIZE = 100
#: Label Studio's `TASK_API_PAGE_SIZE_MAX` is unlimited by default; one page of a million
#: tasks would exhaust the server, so larger requests get this many (as DRF's max does).
MAX_PAGE_SIZE = 10_000

#: What a view's `data` keeps apart in its own columns.
_SEPARATE_KEYS = ("filters", "ordering", "selectedItems")


# --------------------------------------------------------------------------------------
# Selections
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Filters, ordering and selectedItems as the data manager sends them (unvalidated)."""

    filters: dict[str, Any] | None = None
    ordering: list[str] | None = None
    selected_items: dict[str, Any] | None = None


@dataclass(frozen=True)
class CompiledSelection:
    project_id: int
    where: list[ColumnElement[bool]] = field(default_factory=list)
    order_by: list[ColumnElement[Any]] = field(default_factory=list)
    #: Which tasks are selected (filters and selectedItems, not the order), as a cache key.
    key: str = ""
    #: Set when a data-field index could answer the selection (see `fieldindexes`).
    data_field_shape: DataFieldShape | None = None
    #: Set when the selection is the tasks with (True) or without (False) annotations.
    annotated: bool | None = None

    @property
    def is_whole_project(self) -> bool:
        return len(self.where) == 1


def _compile_error(error: FilterError, prefix: str) -> ValidationFailed:
    return ValidationFailed({f"{prefix}{error.field}": [error.reason]})


def compile_selection(
    session: Session,
    *,
    project_id: int,
    selection: Selection,
    prefix: str = "",
    visible: ColumnElement[bool] | None = None,
    viewer: int | None = None,
) -> CompiledSelection:
    """WHERE and ORDER BY for a selection; a bad filter is a 400 naming its place.

    `visible` narrows it to what the caller may see (`access.visible_tasks`), `viewer`
    being the caller: such a selection is theirs alone, so it never shares cached totals
    with others and no project-wide shortcut (data-field index, counters) answers it."""
    try:
        where: list[ColumnElement[bool]] = [Task.project_id == project_id]
        if visible is not None:
            where.append(visible)
        condition = compile_filters(selection.filters)
        if condition is not None:
            where.append(condition)
        selected = compile_selected_items(selection.selected_items)
        if selected is not None:
            where.append(selected)
        order_by = compile_ordering(selection.ordering or None)
        shape = data_field_shape(
            selection.filters, selection.ordering or None, selection.selected_items
        )
        annotated = annotated_filter(selection.filters, selection.selected_items)
    except FilterError as error:
        raise _compile_error(error, prefix) from None
    if visible is not None:
        shape, annotated = None, None
    key = json.dumps(
        [project_id, selection.filters, selection.selected_items]
        + ([{"viewer": viewer}] if visible is not None else []),
        sort_keys=True,
        default=str,
    )
    return CompiledSelection(
        project_id=project_id,
        where=where,
        order_by=order_by,
        key=key,
        data_field_shape=shape,
        annotated=annotated,
    )


def parse_query(raw: str | None) -> dict[str, Any]:
    """The `query` parameter: a JSON object with filters, ordering and selectedItems."""
    if raw is None or raw == "":
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise ValidationFailed({"query": [f"Must be a JSON object: {exc}"]}) from None
    if not isinstance(parsed, dict):
        raise ValidationFailed({"query": ["Must be a JSON object."]})
    return parsed


def selection_from(payload: dict[str, Any]) -> Selection:
    """The selection keys of a request payload, with their shapes checked."""
    filters = payload.get("filters")
    if filters is not None and not isinstance(filters, dict):
        raise ValidationFailed({"filters": ["Must be an object with 'conjunction' and 'items'."]})
    ordering = payload.get("ordering")
    if isinstance(ordering, str):
        ordering = [ordering]
    if ordering is not None and not isinstance(ordering, list):
        raise ValidationFailed({"ordering": ["Must be a list of column names."]})
    selected = payload.get("selectedItems")
    if selected is not None and not isinstance(selected, dict):
        raise ValidationFailed({"selectedItems": ['Must be an object {"all": ..., ...}.']})
    return Selection(filters=filters, ordering=ordering, selected_items=selected)


def prepare(
    session: Session,
    projects: ProjectDirectory,
    principal: Principal,
    *,
    project_id: Any,
    view_id: Any,
    payload: dict[str, Any],
    policy: access.Policy,
    use_view_selection: bool,
) -> tuple[ProjectInfo, Selection]:
    """The project (checked with `policy`) and the selection a request means.

    With a view, its stored filters and ordering apply, as in Label Studio; its stored
    selectedItems apply only where `use_view_selection` (actions) and the payload has none.
    """
    project_number = parse_optional_int(project_id, field="project")
    view_number = parse_optional_int(view_id, field="view")
    if view_number is not None:
        view = session.get(View, view_number)
        if view is None:
            raise NotFound()
        if project_number is not None and project_number != view.project_id:
            raise ValidationFailed({"view": ["Project and View mismatch."]})
        project = access.project_for(projects, principal, view.project_id, policy)
        selected = payload.get("selectedItems") if use_view_selection else None
        if selected is None and use_view_selection:
            selected = view.selected_items
        if selected is not None and not isinstance(selected, dict):
            raise ValidationFailed({"selectedItems": ['Must be an object {"all": ..., ...}.']})
        return project, Selection(
            filters=view.filters, ordering=view.ordering or None, selected_items=selected
        )
    if project_number is None:
        raise NotFound("Neither project nor view id specified")
    project = access.project_for(projects, principal, project_number, policy)
    return project, selection_from(payload)


def scope_ids(session: Session, compiled: CompiledSelection) -> list[int]:
    """Ids of every selected task, in the selection's order."""
    return list(
        session.scalars(select(Task.id).where(*compiled.where).order_by(*compiled.order_by))
    )


# --------------------------------------------------------------------------------------
# Task list
# --------------------------------------------------------------------------------------


def parse_page(page: str | None, page_size: str | None) -> tuple[int, int]:
    """DRF's rules: a page that is not a positive number is 404 "Invalid page."."""
    try:
        number = int(page) if page not in (None, "") else 1
    except ValueError:
        raise NotFound("Invalid page.") from None
    if number < 1:
        raise NotFound("Invalid page.")
    try:
        size = int(page_size) if page_size not in (None, "") else DEFAULT_PAGE_SIZE
    except ValueError:
        raise ValidationFailed({"page_size": ["A valid integer is required."]}) from None
    if size < 1:
        raise ValidationFailed({"page_size": ["Must be at least 1."]})
    return number, min(size, MAX_PAGE_SIZE)


class _TotalsCache:
    """Totals of filtered selections, keyed by (selection, the project's tasks version).

    Counting a filter that matches most of a million tasks costs far more than fetching
    any page of ids, and the data manager (infinite scroll, reloads) and the SDK
    (iteration) ask for page after page of one selection. Every committed write to a
    project's tasks raises its version (`counts.tasks_version`), so an entry is exact for
    as long as it can be found; old versions are simply never asked for again and age
    out of the bounded, least-recently-used map.
    """

    def __init__(self, *, max_entries: int = 4096) -> None:
        self._max = max_entries
        self._entries: OrderedDict[tuple[str, int], tuple[int, int, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, version: int) -> tuple[int, int, int] | None:
        with self._lock:
            totals = self._entries.get((key, version))
            if totals is not None:
                self._entries.move_to_end((key, version))
            return totals

    def put(self, key: str, version: int, totals: tuple[int, int, int]) -> None:
        with self._lock:
            self._entries[(key, version)] = totals
            self._entries.move_to_end((key, version))
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


totals_cache = _TotalsCache()


def selection_totals(
    session: Session,
    compiled: CompiledSelection,
    *,
    field_index: fieldindexes.UsableIndex | None = None,
) -> tuple[int, int, int]:
    """(tasks, annotations, predictions) of the selection, from the counters.

    The whole project reads its counters row; a filtered set sums the tasks' counter
    columns (never counting annotation or prediction rows), once per tasks version of
    the project. The version is read before counting, so an entry holds a count at
    least as new as its version. `field_index`, when it answers the selection, counts
    the tasks where no counter needs summing.
    """
    if compiled.is_whole_project:
        row = counts.get_project_counts(session, project_ids=[compiled.project_id])[
            compiled.project_id
        ]
        return (
            row["task_number"],
            row["total_annotations_number"],
            row["total_predictions_number"],
        )
    version = counts.tasks_version(session, project_id=compiled.project_id)
    if version is None:  # this transaction changed the tasks: count, never cache
        return _count_selection(session, compiled, field_index=field_index)
    # One process may serve several databases (tests do), each with its own project ids.
    key = f"{session.get_bind().engine.url.render_as_string()}|{compiled.key}"
    cached = totals_cache.get(key, version)
    if cached is None:
        cached = _count_selection(session, compiled, field_index=field_index)
        totals_cache.put(key, version, cached)
    return cached


def _count_selection(
    session: Session,
    compiled: CompiledSelection,
    *,
    field_index: fieldindexes.UsableIndex | None = None,
) -> tuple[int, int, int]:
    """Count the selection and sum its tasks' counters.

    A sum is left out where the project's own counter is zero (every task's is zero
    then): without the heap-only counter columns, a filter on an indexed column such
    as `total_annotations` is counted by an index-only scan. A selection a data-field
    index answers is counted on that index, and its sums read only the tasks whose
    counter is above zero (for annotations, a range of the `total_annotations` index):
    in a large project being labelled, the totals after each annotation then cost the
    labelled tasks rather than every selected one.
    """
    project = counts.get_project_counts(session, project_ids=[compiled.project_id])[
        compiled.project_id
    ]
    if compiled.annotated is not None:
        return _count_by_annotated(session, compiled, project)
    counters = [
        (name, column)
        for name, column, project_total in (
            ("annotations", Task.total_annotations, project["total_annotations_number"]),
            ("predictions", Task.total_predictions, project["total_predictions_number"]),
        )
        if project_total
    ]
    found: dict[str, int] = {}
    total = fieldindexes.count_entries(session, field_index) if field_index is not None else None
    if total is not None:
        for name, column in counters:
            summed = session.scalar(
                select(func.coalesce(func.sum(column), 0)).where(*compiled.where, column > 0)
            )
            found[name] = int(summed or 0)
    else:
        sums = [func.coalesce(func.sum(column), 0) for _, column in counters]
        row = session.execute(select(func.count(), *sums).where(*compiled.where)).one()
        total = int(row[0])
        found = {name: int(value) for (name, _), value in zip(counters, row[1:], strict=True)}
    return total, found.get("annotations", 0), found.get("predictions", 0)


def _count_by_annotated(
    session: Session, compiled: CompiledSelection, project: dict[str, int]
) -> tuple[int, int, int]:
    """The tasks with or without annotations, from the project's counters; only the
    predictions on annotated tasks are summed (a range of the `total_annotations` index)."""
    predictions_on_annotated = 0
    if project["total_predictions_number"] and project["num_tasks_with_annotations"]:
        predictions_on_annotated = int(
            session.scalar(
                select(func.coalesce(func.sum(Task.total_predictions), 0)).where(
                    Task.project_id == compiled.project_id, Task.total_annotations > 0
                )
            )
            or 0
        )
    if compiled.annotated:
        return (
            project["num_tasks_with_annotations"],
            project["total_annotations_number"],
            predictions_on_annotated,
        )
    return (
        project["task_number"] - project["num_tasks_with_annotations"],
        0,
        project["total_predictions_number"] - predictions_on_annotated,
    )


def page_ids(session: Session, compiled: CompiledSelection, *, page: int, size: int) -> list[int]:
    """One page of ids: the ordered scan reads ids only, so a deep OFFSET stays cheap."""
    return list(
        session.scalars(
            select(Task.id)
            .where(*compiled.where)
            .order_by(*compiled.order_by)
            .offset((page - 1) * size)
            .limit(size)
        )
    )


def list_tasks(
    session: Session,
    *,
    compiled: CompiledSelection,
    page: int,
    size: int,
    full: bool,
    user_id: int,
    annotations_by: int | None = None,
    index_min_tasks: int | None = None,
) -> dict[str, Any]:
    """One page of the selection (with only `annotations_by`'s annotations if given:
    `access.annotations_visible_to`); a project with `index_min_tasks` tasks or more gets a
    data-field index for a selection of that shape (None: never from a list query)."""
    field_index = fieldindexes.index_for_list(
        session,
        project_id=compiled.project_id,
        shape=compiled.data_field_shape,
        min_tasks=index_min_tasks,
    )
    ids = None
    if field_index is not None:
        # The same ids in the same order: the index holds the very values the plain
        # query compares and sorts.
        ids = fieldindexes.page_task_ids(session, field_index, offset=(page - 1) * size, limit=size)
        if ids is None:  # an inexact entry came in meanwhile
            field_index = None
    if ids is None:
        ids = page_ids(session, compiled, page=page, size=size)
    LIST_QUERIES.labels("field_index" if field_index is not None else "plain").inc()
    if not ids and page > 1:
        raise NotFound("Invalid page.")
    total, total_annotations, total_predictions = selection_totals(
        session, compiled, field_index=field_index
    )
    rows = {task.id: task for task in session.scalars(select(Task).where(Task.id.in_(ids)))}
    found = [rows[task_id] for task_id in ids if task_id in rows]
    annotations, predictions, drafts = tasks.related(
        session, ids, user_id=user_id, annotations_by=annotations_by
    )
    commenters = comments.authors_by_task(session, found)
    assignees = assignments.assignees_of(session, ids)
    reviewers: dict[int, list[int]] = {}
    for task_id, reviewer_id in session.execute(
        select(AnnotationReview.task_id, AnnotationReview.reviewer_id)
        .where(AnnotationReview.task_id.in_(ids))
        .distinct()
        .order_by(AnnotationReview.task_id, AnnotationReview.reviewer_id)
    ):
        reviewers.setdefault(task_id, []).append(reviewer_id)
    upload_ids = {t.file_upload_id for t in found if t.file_upload_id is not None}
    file_names: dict[int, str] = {}
    if upload_ids:
        for upload_id, path in session.execute(
            select(FileUpload.id, FileUpload.file).where(FileUpload.id.in_(upload_ids))
        ):
            file_names[upload_id] = path.rsplit("/", 1)[-1]
    scores = dict(
        session.execute(
            select(TaskAgreement.task_id, TaskAgreement.agreement).where(
                TaskAgreement.task_id.in_(ids)
            )
        ).all()
    )
    return {
        "total_annotations": total_annotations,
        "total_predictions": total_predictions,
        "total": total,
        "tasks": [
            schemas.data_manager_task(
                task,
                annotations=annotations[task.id],
                predictions=predictions[task.id],
                drafts=drafts[task.id],
                reviewers=reviewers.get(task.id, []),
                file_name=file_names.get(task.file_upload_id)
                if task.file_upload_id is not None
                else None,
                full=full,
                comment_authors=commenters.get(task.id, []),
                assignees=assignees[task.id],
                agreement=scores.get(task.id),
            )
            for task in found
        ],
    }


# --------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------


def can_change_view(principal: Principal, project: ProjectInfo, view: View) -> bool:
    """Managers change any view of their projects; others only the views they made."""
    if principal.organization_id != project.organization_id:
        return False
    return can(principal, Action.CHANGE_OTHERS_ANNOTATIONS) or view.user_id == principal.user_id


def view_for(
    session: Session,
    projects: ProjectDirectory,
    principal: Principal,
    view_id: int,
    *,
    change: bool = False,
) -> tuple[View, ProjectInfo]:
    view = session.get(View, view_id)
    if view is None:
        raise NotFound()
    project = access.project_for(projects, principal, view.project_id, access.can_view_tasks)
    if change:
        authorize(can_change_view(principal, project, view))
    return view, project


def _split_view_data(session: Session, data: dict[str, Any] | None) -> dict[str, Any]:
    """The view's columns from its `data`; filters, ordering and selection are validated."""
    data = dict(data or {})
    filters = data.pop("filters", None)
    ordering = data.pop("ordering", None)
    selected = data.pop("selectedItems", None)
    if filters is not None and not isinstance(filters, dict):
        raise ValidationFailed(
            {"data.filters": ["Must be an object with 'conjunction' and 'items'."]}
        )
    if isinstance(ordering, str):
        ordering = [ordering]
    if ordering is not None and not isinstance(ordering, list):
        raise ValidationFailed({"data.ordering": ["Must be a list of column names."]})
    if selected is not None and not isinstance(selected, dict):
        raise ValidationFailed({"data.selectedItems": ['Must be an object {"all": ..., ...}.']})
    compile_selection(
        session,
        project_id=0,
        selection=Selection(filters=filters, ordering=ordering, selected_items=selected),
        prefix="data.",
    )
    return {
        "data": data,
        "filters": filters or None,
        "ordering": ordering or [],
        "selected_items": selected or None,
    }


def list_views(session: Session, *, project_id: int) -> list[View]:
    return list(
        session.scalars(
            select(View).where(View.project_id == project_id).order_by(View.order, View.id)
        )
    )


def create_view(
    session: Session, *, project_id: int, data: dict[str, Any] | None, user_id: int
) -> View:
    columns = _split_view_data(session, data)
    last = session.scalar(select(func.max(View.order)).where(View.project_id == project_id))
    now = utcnow()
    view = View(
        project_id=project_id,
        user_id=user_id,
        order=0 if last is None else last + 1,
        created_at=now,
        updated_at=now,
        **columns,
    )
    session.add(view)
    session.flush()
    _request_field_index(session, view)
    return view


def update_view(session: Session, *, view: View, data: dict[str, Any] | None) -> View:
    if data is not None:
        for name, value in _split_view_data(session, data).items():
            setattr(view, name, value)
    view.updated_at = utcnow()
    session.flush()
    if data is not None:
        _request_field_index(session, view)
    return view


def _request_field_index(session: Session, view: View) -> None:
    """A saved view is a query users come back to: index its data fields ahead of time."""
    shape = data_field_shape(view.filters, view.ordering or None, view.selected_items)
    if shape is not None:
        fieldindexes.request_definition(session, project_id=view.project_id, shape=shape)


def delete_project_views(session: Session, *, project_id: int) -> int:
    result = session.execute(delete(View).where(View.project_id == project_id))
    return int(getattr(result, "rowcount", 0) or 0)


def order_views(
    session: Session, *, principal: Principal, project: ProjectInfo, ids: Sequence[int]
) -> list[View]:
    """Set each listed view's `order` to its position; every id must be a view the caller
    may change in this project, else nothing changes."""
    if len(set(ids)) != len(ids):
        raise ValidationFailed({"ids": ["Must not repeat a view id."]})
    found = {
        view.id: view
        for view in session.scalars(
            select(View).where(View.project_id == project.id, View.id.in_(list(ids)))
        )
    }
    missing = [view_id for view_id in ids if view_id not in found]
    if missing:
        raise ValidationFailed({"ids": [f"No view {missing[0]} in project {project.id}."]})
    for view in found.values():
        authorize(can_change_view(principal, project, view))
    for position, view_id in enumerate(ids):
        found[view_id].order = position
    session.flush()
    return list_views(session, project_id=project.id)


# --------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------

#: (id, title, type, help, shown in the list by default) of the task columns.
_TASK_COLUMNS: tuple[tuple[str, str, str, str, bool], ...] = (
    ("id", "ID", "Number", "Task ID", True),
    ("inner_id", "Inner ID", "Number", "Task number within the project", False),
    ("completed_at", "Completed", "Datetime", "Last annotation date", True),
    ("total_annotations", "Annotations", "Number", "Total annotations per task", True),
    ("cancelled_annotations", "Cancelled", "Number", "Total cancelled (skipped) annotations", True),
    ("total_predictions", "Predictions", "Number", "Total predictions per task", True),
    ("annotators", "Annotated by", "List", "All users who completed the task", True),
    ("assignees", "Assigned to", "List", "Users assigned to annotate the task", True),
    ("reviewers", "Reviewed by", "List", "All users who reviewed the task", False),
    ("reviewed", "Reviewed", "Boolean", "Every submitted annotation has a verdict", False),
    ("reviews_accepted", "Accepted", "Number", "Annotations accepted by review", False),
    ("reviews_rejected", "Rejected", "Number", "Annotations rejected by review", False),
    ("agreement", "Agreement", "Number", "Agreement between the task's annotators (0-1)", True),
    (
        "annotations_results",
        "Annotation results",
        "String",
        "Annotation results stacked over all annotations",
        False,
    ),
    (
        "annotations_ids",
        "Annotation IDs",
        "String",
        "Annotation IDs stacked over all annotations",
        False,
    ),
    (
        "predictions_score",
        "Prediction score",
        "Number",
        "Average prediction score over all task predictions",
        False,
    ),
    (
        "predictions_model_versions",
        "Prediction model versions",
        "List",
        "Model versions aggregated over all predictions",
        False,
    ),
    (
        "predictions_results",
        "Prediction results",
        "String",
        "Prediction results stacked over all predictions",
        False,
    ),
    ("file_upload", "Upload filename", "String", "Filename of the uploaded file", False),
    ("storage_filename", "Storage filename", "String", "Filename from the import storage", False),
    ("created_at", "Created at", "Datetime", "Task creation time", False),
    ("updated_at", "Updated at", "Datetime", "Last time the task was updated", False),
    ("updated_by", "Updated by", "List", "User who last updated the task", False),
    (
        "avg_lead_time",
        "Lead Time",
        "Number",
        "Average lead time over all annotations (seconds)",
        False,
    ),
    ("ground_truth", "Ground Truth", "Boolean", "Ground truth status of the task", False),
    ("comments", "Comments", "Number", "Total comments per task", False),
    (
        "unresolved_comment_count",
        "Unresolved comments",
        "Number",
        "Comments not yet resolved per task",
        False,
    ),
)


def project_data_types(project: ProjectInfo) -> dict[str, str]:
    """Each `$variable` of the config and the object tag that shows it (`String` if none)."""
    data_types: dict[str, str] = {}
    if project.config is not None:
        for tag in project.config.objects.values():
            if tag.data_key and tag.data_key not in data_types:
                data_types[tag.data_key] = tag.tag
        for key in project.config.data_keys:
            data_types.setdefault(key, "String")
    return data_types


def data_manager_project(
    session: Session, *, project: ProjectInfo, principal: Principal
) -> schemas.DataManagerProjectAnswer:
    """`GET /api/dm/project/`: sizes from the kept counters, never a count of rows.

    Storage syncing is storage-sync's; this service does not know, so it says false.
    """
    counters = counts.get_project_counts(session, project_ids=[project.id])[project.id]
    manage = access.can_manage_tasks(principal, project)
    return schemas.DataManagerProjectAnswer(
        id=project.id,
        title=project.title,
        data_types=project_data_types(project),
        task_count=counters["task_number"],
        annotation_count=counters["total_annotations_number"]
        + counters["skipped_annotations_number"],
        can_delete_tasks=manage,
        can_manage_annotations=manage,
        can_manage_tasks=manage,
        source_syncing=False,
        target_syncing=False,
    )


def columns(project: ProjectInfo) -> list[dict[str, Any]]:
    """The data manager's columns: the task's, then one per `$variable` of the config."""
    result: list[dict[str, Any]] = [
        {
            "id": column_id,
            "title": title,
            "type": type_,
            "help": help_,
            "target": "tasks",
            "visibility_defaults": {"explore": shown, "labeling": False},
            "project_defined": False,
        }
        for column_id, title, type_, help_, shown in _TASK_COLUMNS
    ]
    data_types = project_data_types(project)
    if data_types:
        result.append(
            {
                "id": "data",
                "title": "data",
                "type": "List",
                "target": "tasks",
                "children": list(data_types),
                "project_defined": False,
            }
        )
        result.extend(
            {
                "id": key,
                "title": key,
                "type": tag if tag in _DATA_TYPES else "String",
                "target": "tasks",
                "parent": "data",
                "visibility_defaults": {"explore": True, "labeling": True},
                "project_defined": False,
            }
            for key, tag in data_types.items()
        )
    return result


#: Object tags whose name Label Studio uses as the data column's type.
_DATA_TYPES = frozenset(
    {
        "Image",
        "Text",
        "HyperText",
        "Audio",
        "AudioPlus",
        "Video",
        "TimeSeries",
        "Paragraphs",
        "Table",
        "Pdf",
        "Chat",
        "Markdown",
    }
)

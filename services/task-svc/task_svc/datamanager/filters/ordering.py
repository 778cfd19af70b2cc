"""The data manager's ordering as ORDER BY terms on `tasks`, ending with the task id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    case,
    func,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from task_svc.annotations.models import Annotation
from task_svc.datamanager.filters.conditions import (
    annotation_exists,
)
from task_svc.datamanager.filters.parsing import (
    ORDER_PREFIX,
    RELATED_COLUMNS,
    TASK_COLUMNS,
    UNSUPPORTED_COLUMNS,
    FilterError,
    data_keys,
    ordering_name,
)
from task_svc.predictions.models import Prediction
from task_svc.reviews.models import AnnotationReview
from task_svc.tasks.models import Task


def _data_sort_key(keys: Sequence[str]) -> ColumnElement[Any]:
    """The raw JSON value, so numbers sort as numbers and strings as strings."""
    return func.jsonb_extract_path(Task.data, *keys)


def _first_annotator() -> ColumnElement[Any]:
    return (
        select(func.min(Annotation.completed_by_id))
        .where(Annotation.task_id == Task.id)
        .scalar_subquery()
    )


def _has_ground_truth() -> ColumnElement[Any]:
    return case((annotation_exists(Annotation.ground_truth.is_(True)), 1), else_=0)


def _first_reviewer() -> ColumnElement[Any]:
    return (
        select(func.min(AnnotationReview.reviewer_id))
        .where(AnnotationReview.task_id == Task.id)
        .scalar_subquery()
    )


def _first_model_version() -> ColumnElement[Any]:
    return (
        select(func.min(Prediction.model_version))
        .where(Prediction.task_id == Task.id)
        .scalar_subquery()
    )


#: Related columns the data manager lets users sort by, each reduced to one sortable value.
_RELATED_SORT_KEYS: dict[str, Callable[[], Any]] = {
    "file_upload": lambda: Task.file_upload_id,
    "annotators": _first_annotator,
    "reviewers": _first_reviewer,
    # The tasks' copy of their score: `ix_tasks_project_id_agreement` serves the order.
    "agreement": lambda: Task.agreement,
    "ground_truth": _has_ground_truth,
    "predictions_model_versions": _first_model_version,
}


def compile_ordering(ordering: list[str] | None) -> list[ColumnElement[Any]]:
    """ORDER BY terms, ending with Task.id so paging is stable when the keys tie.

    NULL sorts as the largest value (last ascending, first descending): PostgreSQL's
    default, so its plain b-tree indexes serve both directions. No NULLS clause is added:
    PostgreSQL only walks an index (forwards or backwards) when the ORDER BY's NULLS
    placement matches it.
    """
    if ordering is None:
        return [Task.id.asc()]
    if not isinstance(ordering, list):
        raise FilterError("ordering", "must be a list of column names")
    terms: list[ColumnElement[Any]] = []
    first_descending: bool | None = None
    has_id = False
    for index, key in enumerate(ordering):
        field = f"ordering[{index}]"
        if not isinstance(key, str) or not key.strip("-"):
            raise FilterError(field, "must be a column name like 'tasks:id' or '-tasks:id'")
        name, descending = ordering_name(key)
        if not name.startswith(ORDER_PREFIX):
            raise FilterError(field, f"must start with '{ORDER_PREFIX}', got '{key}'")
        column = name[len(ORDER_PREFIX) :]
        if not column:
            raise FilterError(field, "names no column")
        if "__" in column:
            raise FilterError(field, f"'__' is not allowed in a column name ('{column}')")
        expr: Any
        if column.startswith("data.") or column == "data":
            expr = _data_sort_key(data_keys(column, field))
        elif column in TASK_COLUMNS:
            expr = TASK_COLUMNS[column][0]
        elif column in _RELATED_SORT_KEYS:
            expr = _RELATED_SORT_KEYS[column]()
        elif column in RELATED_COLUMNS or column in UNSUPPORTED_COLUMNS:
            raise FilterError(field, f"cannot order by '{column}'")
        else:
            raise FilterError(field, f"unknown column '{column}'")
        if first_descending is None:
            first_descending = descending
        if expr is Task.id:
            if has_id:
                continue
            has_id = True
        terms.append(expr.desc() if descending else expr.asc())
    if not has_id:
        terms.append(Task.id.desc() if first_descending else Task.id.asc())
    return terms

"""Data-manager request bodies and Label Studio's view and data-manager task shapes."""

from __future__ import annotations

import json
from typing import Any

from labelops_common.http.answers import Timestamp, timestamp
from pydantic import BaseModel, ConfigDict

from task_svc.annotations.models import Annotation
from task_svc.annotations.schemas import AnnotationAnswer, annotation_fields
from task_svc.datamanager.models import View
from task_svc.drafts.models import Draft
from task_svc.drafts.schemas import DraftAnswer, draft_fields
from task_svc.predictions.models import Prediction
from task_svc.predictions.schemas import PredictionAnswer, prediction_fields
from task_svc.tasks.models import Task
from task_svc.tasks.schemas import TaskUpdaterAnswer, task_fields

#: Label Studio cuts the `*_results` columns to this many characters.
RESULTS_CHAR_LIMIT = 500


class ViewCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    project: int
    data: dict[str, Any] | None = None


class ViewUpdate(BaseModel):
    """PATCH and PUT: `data` replaces the stored one as a whole, as Label Studio does."""

    model_config = ConfigDict(extra="ignore")

    project: int | None = None
    data: dict[str, Any] | None = None


class ViewOrder(BaseModel):
    model_config = ConfigDict(extra="ignore")

    project: int
    ids: list[int]


class ViewAnswer(BaseModel):
    """A saved view (a data-manager tab); `data` is the data manager's own open object."""

    id: int
    data: dict[str, Any]
    order: int
    user: int | None
    project: int


class ColumnVisibility(BaseModel):
    explore: bool
    labeling: bool


class ColumnAnswer(BaseModel):
    """A data-manager column: a task column, the `data` group, or one of its children
    (`parent: "data"`). Keys that do not apply to a column are absent."""

    id: str
    title: str
    type: str
    help: str | None = None
    target: str
    parent: str | None = None
    children: list[str] | None = None
    visibility_defaults: ColumnVisibility | None = None
    project_defined: bool


class ColumnsAnswer(BaseModel):
    columns: list[ColumnAnswer]


class ActionFormField(BaseModel):
    type: str
    name: str
    label: str
    options: list[Any]


class ActionFormSection(BaseModel):
    """A part of an action's dialog form (`GET /api/dm/actions/{id}/form/`)."""

    columnCount: int
    fields: list[ActionFormField]


class DataManagerProjectAnswer(BaseModel):
    """`GET /api/dm/project/?project=P` (Label Studio's data-manager project summary)."""

    id: int
    title: str
    data_types: dict[str, str]
    task_count: int
    annotation_count: int
    can_delete_tasks: bool
    can_manage_annotations: bool
    can_manage_tasks: bool
    source_syncing: bool
    target_syncing: bool


class ActionDialogAnswer(BaseModel):
    title: str | None = None
    text: str
    type: str
    form: list[dict[str, Any]] | None = None


class ActionAnswer(BaseModel):
    """An item of `GET /api/dm/actions`; keys that do not apply to an action are absent."""

    id: str
    title: str
    order: int
    permission: str | list[str]
    reload: bool | None = None
    dialog: ActionDialogAnswer


class ActionResultAnswer(BaseModel):
    """`POST /api/dm/actions`: what the action did; keys that do not apply are absent."""

    processed_items: int | None = None
    reload: bool | None = None
    response_code: int | None = None
    detail: str
    #: `retrieve_tasks_predictions`: the prediction job ml-gateway queued, and its backend
    #: (`GET /api/ml/{ml_backend}/jobs` shows its progress).
    job: int | None = None
    ml_backend: int | None = None


class DataManagerTaskAnswer(BaseModel):
    """A row of `GET /api/tasks` (Label Studio's `DataManagerTaskSerializer`). The keys
    from `annotations` to `draft_exists` are there with `fields=all` only."""

    id: int
    drafts: list[DraftAnswer]
    annotators: list[int]
    #: Who is assigned to annotate the task (Label Studio Enterprise's assignees).
    assignees: list[int]
    reviewers: list[int]
    reviewed: bool
    reviews_accepted: int
    reviews_rejected: int
    inner_id: int
    cancelled_annotations: int
    total_annotations: int
    total_predictions: int
    annotations_results: str
    predictions_results: str
    file_upload: str | None
    storage_filename: str | None
    annotations_ids: str
    predictions_model_versions: str
    updated_by: list[TaskUpdaterAnswer]
    data: dict[str, Any]
    meta: dict[str, Any]
    created_at: Timestamp
    updated_at: Timestamp
    is_labeled: bool
    overlap: int
    #: The `comments` column: `comment_count` under the data manager's column id.
    comments: int
    #: Label Studio Enterprise's column: the task's stored agreement (0-1), null below two
    #: annotators.
    agreement: float | None = None
    comment_count: int
    unresolved_comment_count: int
    last_comment_updated_at: Timestamp | None
    project: int
    comment_authors: list[int]
    annotations: list[AnnotationAnswer] | None = None
    predictions: list[PredictionAnswer] | None = None
    completed_at: Timestamp | None = None
    predictions_score: float | None = None
    avg_lead_time: float | None = None
    draft_exists: bool | None = None


class TaskPageAnswer(BaseModel):
    """`GET /api/tasks`: one page of the selection and the selection's totals."""

    total_annotations: int
    total_predictions: int
    total: int
    tasks: list[DataManagerTaskAnswer]


def view_fields(view: View) -> dict[str, Any]:
    """A view as Label Studio returns it: filters, ordering and selection back inside `data`."""
    data = dict(view.data or {})
    if view.filters:
        data["filters"] = view.filters
    if view.ordering:
        data["ordering"] = view.ordering
    if view.selected_items:
        data["selectedItems"] = view.selected_items
    return {
        "id": view.id,
        "data": data,
        "order": view.order,
        "user": view.user_id,
        "project": view.project_id,
    }


def _pretty_results(values: list[Any]) -> str:
    """Label Studio's rendering of a list in a data-manager cell: JSON without the brackets
    and quotes, cut to 500 characters."""
    if not values:
        return ""
    text = json.dumps(values, ensure_ascii=False)[1:-1]
    return text[:RESULTS_CHAR_LIMIT].replace(',"', ', "').replace("],[", "] [").replace('"', "")


def data_manager_task(
    task: Task,
    *,
    annotations: list[Annotation],
    predictions: list[Prediction],
    drafts: list[Draft],
    reviewers: list[int],
    file_name: str | None,
    full: bool,
    comment_authors: list[int] | None = None,
    assignees: list[int] | None = None,
    agreement: float | None = None,
) -> dict[str, Any]:
    """One row of `GET /api/tasks` (Label Studio's DataManagerTaskSerializer).

    `full` (`fields=all`) adds the annotations, predictions and the columns computed from
    their contents; without it the row carries the task and the cheap computed columns.
    """
    fields = task_fields(task)
    row: dict[str, Any] = {
        "id": task.id,
        "drafts": [draft_fields(d) for d in drafts],
        "annotators": sorted({a.completed_by_id for a in annotations if a.completed_by_id}),
        "assignees": assignees or [],
        "reviewers": reviewers,
        "reviewed": task.reviewed,
        "reviews_accepted": task.reviews_accepted,
        "reviews_rejected": task.reviews_rejected,
        "inner_id": task.inner_id,
        "cancelled_annotations": task.cancelled_annotations,
        "total_annotations": task.total_annotations,
        "total_predictions": task.total_predictions,
        "agreement": agreement,
        "annotations_results": "",
        "predictions_results": "",
        "file_upload": file_name,
        "storage_filename": task.source_key,
        "annotations_ids": ", ".join(str(a.id) for a in annotations),
        "predictions_model_versions": ", ".join(sorted({p.model_version for p in predictions})),
        "updated_by": [{"user_id": task.updated_by_id}] if task.updated_by_id else [],
        "comments": task.comment_count,
        "comment_authors": comment_authors or [],
        **{
            key: fields[key]
            for key in (
                "data",
                "meta",
                "created_at",
                "updated_at",
                "is_labeled",
                "overlap",
                "comment_count",
                "unresolved_comment_count",
                "last_comment_updated_at",
                "project",
            )
        },
    }
    if not full:
        return row
    finished = [a for a in annotations if not a.was_cancelled]
    lead_times = [a.lead_time for a in finished if a.lead_time is not None]
    row.update(
        {
            "annotations": [annotation_fields(a) for a in annotations],
            "predictions": [prediction_fields(p) for p in predictions],
            "annotations_results": _pretty_results([a.result for a in annotations]),
            "predictions_results": _pretty_results([p.result for p in predictions]),
            "completed_at": timestamp(task.completed_at),
            "predictions_score": task.predictions_score,
            "avg_lead_time": sum(lead_times) / len(lead_times) if lead_times else None,
            "draft_exists": bool(drafts),
        }
    )
    return row

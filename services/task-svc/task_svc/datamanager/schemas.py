"""Data-manager request bodies and Label Studio's view and data-manager task shapes."""

from __future__ import annotations

import json
from typing import Any

from labelops_common.http.answers import timestamp
from pydantic import BaseModel, ConfigDict

from task_svc.annotations.models import Annotation
from task_svc.annotations.schemas import annotation_fields
from task_svc.datamanager.models import View
from task_svc.drafts.models import Draft
from task_svc.drafts.schemas import draft_fields
from task_svc.predictions.models import Prediction
from task_svc.predictions.schemas import prediction_fields
from task_svc.tasks.models import Task
from task_svc.tasks.schemas import task_fields

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
    file_name: str | None,
    full: bool,
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
        "inner_id": task.inner_id,
        "cancelled_annotations": task.cancelled_annotations,
        "total_annotations": task.total_annotations,
        "total_predictions": task.total_predictions,
        "annotations_results": "",
        "predictions_results": "",
        "file_upload": file_name,
        "storage_filename": task.source_key,
        "annotations_ids": ", ".join(str(a.id) for a in annotations),
        "predictions_model_versions": ", ".join(sorted({p.model_version for p in predictions})),
        "updated_by": [{"user_id": task.updated_by_id}] if task.updated_by_id else [],
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
                "comment_authors",
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

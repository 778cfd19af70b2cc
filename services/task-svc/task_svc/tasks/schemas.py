"""Task request bodies and Label Studio's task response shapes (a task's annotations,
predictions and drafts are written by their own domains' schemas)."""

from __future__ import annotations

from typing import Any

from labelops_common.http.answers import timestamp
from pydantic import BaseModel, ConfigDict

from task_svc.annotations.models import Annotation
from task_svc.annotations.schemas import annotation_fields
from task_svc.drafts.models import Draft
from task_svc.drafts.schemas import draft_fields
from task_svc.predictions.models import Prediction
from task_svc.predictions.schemas import prediction_fields
from task_svc.tasks.models import Task


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    project: int
    data: dict[str, Any]
    meta: dict[str, Any] | None = None


class TaskUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None


def task_fields(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "data": task.data,
        "meta": task.meta or {},
        "project": task.project_id,
        "created_at": timestamp(task.created_at),
        "updated_at": timestamp(task.updated_at),
        "updated_by": task.updated_by_id,
        "is_labeled": task.is_labeled,
        "overlap": task.overlap,
        "file_upload": task.file_upload_id,
        "inner_id": task.inner_id,
        "total_annotations": task.total_annotations,
        "cancelled_annotations": task.cancelled_annotations,
        "total_predictions": task.total_predictions,
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "comment_authors": [],
    }


def full_task(
    task: Task,
    *,
    annotations: list[Annotation],
    predictions: list[Prediction],
    drafts: list[Draft],
    users: dict[int, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`GET /api/tasks/{id}`: the task with its annotations, predictions and drafts.

    `users` expands each annotation's `completed_by` into Label Studio's user object.
    """
    users = users or {}
    finished = [a for a in annotations if not a.was_cancelled]
    scores = [p.score for p in predictions if p.score is not None]
    return {
        **task_fields(task),
        "annotations": [
            {
                **annotation_fields(a),
                "completed_by": users.get(a.completed_by_id or 0) or {"id": a.completed_by_id},
            }
            for a in annotations
        ],
        "predictions": [prediction_fields(p) for p in predictions],
        "drafts": [draft_fields(d) for d in drafts],
        "annotators": sorted({a.completed_by_id for a in finished if a.completed_by_id}),
        "annotations_ids": ", ".join(str(a.id) for a in annotations),
        "annotations_results": "",
        "predictions_results": "",
        "predictions_score": sum(scores) / len(scores) if scores else None,
        "predictions_model_versions": ", ".join(sorted({p.model_version for p in predictions})),
        "completed_at": timestamp(task.completed_at),
        "avg_lead_time": (
            sum(a.lead_time or 0 for a in finished) / len(finished) if finished else None
        ),
        "draft_exists": bool(drafts),
        "storage_filename": task.source_key,
    }

"""Task request bodies and Label Studio's task response shapes (a task's annotations,
predictions and drafts are written by their own domains' schemas)."""

from __future__ import annotations

from typing import Any

from labelops_common.directory.users import PersonAnswer
from labelops_common.http.answers import Timestamp, timestamp
from pydantic import BaseModel, ConfigDict

from task_svc.annotations.models import Annotation
from task_svc.annotations.schemas import AnnotationAnswer, with_review
from task_svc.drafts.models import Draft
from task_svc.drafts.schemas import DraftAnswer, draft_fields
from task_svc.predictions.models import Prediction
from task_svc.predictions.schemas import PredictionAnswer, prediction_fields
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


class TaskAnswer(BaseModel):
    """A task's own fields (Label Studio's `BaseTask`); `data` and `meta` are open objects."""

    id: int
    data: dict[str, Any]
    meta: dict[str, Any]
    project: int
    created_at: Timestamp
    updated_at: Timestamp
    updated_by: int | None
    is_labeled: bool
    overlap: int
    file_upload: int | None
    inner_id: int
    total_annotations: int
    cancelled_annotations: int
    total_predictions: int
    comment_count: int
    unresolved_comment_count: int
    last_comment_updated_at: Timestamp | None
    comment_authors: list[int]


class TaskUpdaterAnswer(BaseModel):
    """An item of `updated_by` where Label Studio lists the task's last editor."""

    user_id: int


class TaskWithResultsAnswer(TaskAnswer):
    """`PATCH /api/tasks/{id}` and `GET /api/projects/{id}/tasks`: with annotations and
    predictions."""

    annotations: list[AnnotationAnswer]
    predictions: list[PredictionAnswer]


class AnnotatorAnswer(PersonAnswer):
    """An annotation's author, expanded; only `id` (null for nobody) when project-svc
    does not know them."""

    id: int | None  # type: ignore[assignment]


class TaskAnnotationAnswer(AnnotationAnswer):
    completed_by: AnnotatorAnswer  # type: ignore[assignment]


class FullTaskAnswer(TaskAnswer):
    """`GET /api/tasks/{id}`: the task with its annotations (authors expanded),
    predictions, the caller's drafts and the data manager's computed columns."""

    annotations: list[TaskAnnotationAnswer]
    predictions: list[PredictionAnswer]
    drafts: list[DraftAnswer]
    annotators: list[int]
    annotations_ids: str
    annotations_results: str
    predictions_results: str
    predictions_score: float | None
    predictions_model_versions: str
    completed_at: Timestamp | None
    avg_lead_time: float | None
    draft_exists: bool
    storage_filename: str | None


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
        "comment_count": task.comment_count,
        "unresolved_comment_count": task.unresolved_comment_count,
        "last_comment_updated_at": timestamp(task.last_comment_updated_at),
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
                **with_review(a),
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


class LabelDistribution(BaseModel):
    type: str
    labels: dict[str, int]
    average: float | None = None
    count: int | None = None

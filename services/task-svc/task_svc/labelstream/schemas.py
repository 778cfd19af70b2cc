"""The label stream's request body and its answer (Label Studio's `NextTaskSerializer`)."""

from __future__ import annotations

import json
from typing import Any

from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import ValidationFailed

from task_svc.annotations.models import Annotation
from task_svc.annotations.schemas import AnnotationAnswer, with_review
from task_svc.drafts.models import Draft
from task_svc.drafts.schemas import DraftAnswer, draft_fields
from task_svc.labelstream.service import Picked
from task_svc.predictions.models import Prediction
from task_svc.predictions.schemas import PredictionAnswer, prediction_fields
from task_svc.tasks.schemas import TaskAnswer, TaskUpdaterAnswer, task_fields

#: Data-manager keys that restrict the queue; anything else in the body is ignored.
DM_KEYS = ("filters", "ordering", "selectedItems")


def dm_params(body: Any, query: str | None) -> dict[str, Any]:
    """Filters, ordering and selection from a JSON body and/or a `query` JSON string.

    The data manager sends them either at the top level of the body or wrapped in `query`
    (an object, or a JSON string as in `GET /api/tasks?query=...`).
    """
    params: dict[str, Any] = {}
    sources: list[tuple[str, Any]] = []
    if query:
        sources.append(("query", query))
    if body is not None:
        if not isinstance(body, dict):
            raise ValidationFailed({"non_field_errors": ["Must be a JSON object."]})
        if "query" in body:
            sources.append(("query", body["query"]))
        sources.append(("body", body))
    for field, raw in sources:
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise ValidationFailed({field: ["Must be a JSON object."]}) from None
        if raw is None:
            continue
        if not isinstance(raw, dict):
            raise ValidationFailed({field: ["Must be a JSON object."]})
        for key in DM_KEYS:
            if raw.get(key) is not None:
                params[key] = raw[key]
    return params


class NextTaskAnswer(TaskAnswer):
    """The label stream's task: its predictions (when the project shows them), the
    caller's own annotations a reviewer rejected (with `review_comment`, the reason; no
    others), the caller's drafts, the lock it holds and the queue it came from."""

    predictions: list[PredictionAnswer]
    annotations: list[AnnotationAnswer]
    drafts: list[DraftAnswer]
    updated_by: list[TaskUpdaterAnswer]  # type: ignore[assignment]
    unique_lock_id: str
    queue: str


def next_task_response(
    picked: Picked,
    *,
    project: ProjectInfo,
    predictions: list[Prediction],
    drafts: list[Draft],
    rejected: list[Annotation],
) -> dict[str, Any]:
    """The task with its predictions, the caller's drafts and rejected annotations."""
    task = picked.task
    shown = predictions if project.show_collab_predictions else []
    return {
        **task_fields(task),
        "predictions": [prediction_fields(p) for p in shown],
        "annotations": [with_review(a) for a in rejected],
        "drafts": [draft_fields(d) for d in drafts],
        "updated_by": [{"user_id": task.updated_by_id}] if task.updated_by_id else [],
        "unique_lock_id": picked.lock.unique_id,
        "queue": picked.queue,
    }

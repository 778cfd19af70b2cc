"""Publishing task-svc's events: one Celery message per event, sent only after the commit.

Payloads follow Label Studio's webhook actions but carry ids only (consumers load what
they need): a bulk change sends a count and the id range, plus the ids when few, never an
unbounded id list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labelops_common import events
from labelops_common.events import (
    ANNOTATION_CREATED,
    ANNOTATION_UPDATED,
    ANNOTATIONS_DELETED,
    REVIEW_CREATED,
    REVIEW_UPDATED,
    REVIEWS_DELETED,
    TASKS_CREATED,
    TASKS_DELETED,
)
from sqlalchemy.orm import Session

__all__ = [
    "ANNOTATIONS_DELETED",
    "ANNOTATION_CREATED",
    "ANNOTATION_UPDATED",
    "MAX_PAYLOAD_IDS",
    "REVIEWS_DELETED",
    "REVIEW_CREATED",
    "REVIEW_UPDATED",
    "TASKS_CREATED",
    "TASKS_DELETED",
    "annotation_payload",
    "publish_after_commit",
    "tasks_payload",
]

#: More ids than this are summarised as a count and a range.
MAX_PAYLOAD_IDS = 100


def publish_after_commit(
    session: Session, event: str, *, project_id: int, payload: dict[str, Any]
) -> None:
    """Send `event` once `session` commits; nothing is sent if it rolls back."""
    events.publish_after_commit(session, event, project_id=project_id, payload=payload)


def tasks_payload(
    *,
    task_count: int,
    task_ids: Sequence[int] | None = None,
    first_task_id: int | None = None,
    last_task_id: int | None = None,
) -> dict[str, Any]:
    """TASKS_CREATED / TASKS_DELETED: `task_count`, the id range, and the ids when few.

    `{"task_count": 2, "first_task_id": 7, "last_task_id": 8, "task_ids": [7, 8]}`
    """
    payload: dict[str, Any] = {"task_count": int(task_count)}
    if task_ids:
        first_task_id = min(task_ids) if first_task_id is None else first_task_id
        last_task_id = max(task_ids) if last_task_id is None else last_task_id
    if first_task_id is not None and last_task_id is not None:
        payload["first_task_id"] = int(first_task_id)
        payload["last_task_id"] = int(last_task_id)
    if task_ids is not None and len(task_ids) <= MAX_PAYLOAD_IDS:
        payload["task_ids"] = [int(task_id) for task_id in task_ids]
    return payload


def annotation_payload(*, annotation_id: int, task_id: int, project_id: int) -> dict[str, Any]:
    return {"annotation_id": annotation_id, "task_id": task_id, "project_id": project_id}

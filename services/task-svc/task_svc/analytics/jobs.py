"""The analytics handlers of task-svc's (and the review and agreement domains') events.

Each runs once per event id (`consumer="task-svc"`: the processed-events record is
written in the same transaction), so a redelivered event never counts twice.
"""

from __future__ import annotations

import logging

from labelops_common.events import (
    ANNOTATION_CREATED,
    ANNOTATION_UPDATED,
    ANNOTATIONS_DELETED,
    REVIEW_CREATED,
    REVIEW_UPDATED,
    REVIEWS_DELETED,
    TASK_AGREEMENT_UPDATED,
    TASKS_CREATED,
    TASKS_DELETED,
    Event,
    event_handler,
)
from sqlalchemy.orm import Session

from task_svc.analytics import backfill, metrics, rollups

logger = logging.getLogger(__name__)


def _ids(value: object) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, int) and not isinstance(item, bool)]
    return []


@event_handler(
    ANNOTATION_CREATED, ANNOTATION_UPDATED, ANNOTATIONS_DELETED, consumer="task-svc", batch=True
)
def count_annotations(events: list[Event], session: Session) -> None:
    """One sync per project for a message's annotations: 8 annotators submitting make
    batches of dozens of events, and the sync's queries cost the same for one or many."""
    by_project: dict[int, list[int]] = {}
    for event in events:
        ids = _ids(event.payload.get("annotation_id")) + _ids(event.payload.get("annotation_ids"))
        if event.name == ANNOTATION_CREATED:
            # Counted from the event: an annotation deleted before its event is handled
            # leaves the rollups (which describe the annotations that exist) but was made.
            metrics.ANNOTATIONS_CREATED.inc()
        by_project.setdefault(event.project_id, []).extend(ids)
    for project_id, ids in sorted(by_project.items()):
        rollups.sync_annotations(session, project_id=project_id, annotation_ids=ids)


@event_handler(TASKS_CREATED, consumer="task-svc")
def count_imported_annotations(event: Event, session: Session) -> None:
    task_ids = _ids(event.payload.get("task_ids"))
    first, last = event.payload.get("first_task_id"), event.payload.get("last_task_id")
    if not (isinstance(first, int) and isinstance(last, int)):
        if not task_ids:
            return
        first, last = min(task_ids), max(task_ids)
    backfill.count_new_tasks(
        session, project_id=event.project_id, task_ids=task_ids or None, first=first, last=last
    )


@event_handler(TASKS_DELETED, consumer="task-svc")
def forget_deleted_tasks(event: Event, session: Session) -> None:
    payload = event.payload
    task_ids = _ids(payload.get("task_ids"))
    first, last = payload.get("first_task_id"), payload.get("last_task_id")
    if not task_ids and not (isinstance(first, int) and isinstance(last, int)):
        return
    rollups.forget_deleted_tasks(
        session,
        project_id=event.project_id,
        task_ids=task_ids or None,
        first=first if isinstance(first, int) else None,
        last=last if isinstance(last, int) else None,
    )


@event_handler(REVIEW_CREATED, REVIEW_UPDATED, consumer="task-svc")
def count_reviews(event: Event, session: Session) -> None:
    if not _ids(event.payload.get("review")) or not isinstance(event.payload.get("accepted"), bool):
        logger.warning("review event without a review id or outcome", extra={"event_id": event.id})
        return
    rollups.record_review(
        session, project_id=event.project_id, payload=event.payload, occurred_at=event.occurred_at
    )


@event_handler(REVIEWS_DELETED, consumer="task-svc")
def forget_reviews(event: Event, session: Session) -> None:
    ids = _ids(event.payload.get("review")) + _ids(event.payload.get("reviews"))
    rollups.forget_reviews(
        session, project_id=event.project_id, review_ids=ids, occurred_at=event.occurred_at
    )


@event_handler(TASK_AGREEMENT_UPDATED, consumer="task-svc")
def count_agreement(event: Event, session: Session) -> None:
    task_ids = _ids(event.payload.get("task"))
    agreement = event.payload.get("agreement")
    if not task_ids or not (agreement is None or isinstance(agreement, int | float)):
        logger.warning("agreement event without a task or a number", extra={"event_id": event.id})
        return
    rollups.record_agreement(
        session,
        project_id=event.project_id,
        task_id=task_ids[0],
        agreement=None if agreement is None else float(agreement),
        occurred_at=event.occurred_at,
    )

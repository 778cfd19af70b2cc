"""task-svc's audit entries: tasks, imports, annotations and bulk actions.

Every entry is added in the change's own transaction. A bulk change is one entry with
counts and at most `MAX_IDS` ids, however many tasks it touched. `review_recorded` is the
call the review domain (`task_svc/reviews/`) makes when a review is created, updated or
deleted.
"""

from __future__ import annotations

from typing import Any

from labelops_common.audit import (
    AuditActor,
    bounded_ids,
    changes_between,
    column_values,
    record_audit,
)
from sqlalchemy.orm import Session

from task_svc.annotations.models import Annotation
from task_svc.tasks.models import Task

#: Counters and caches kept by task-svc itself; a change to them is not a person's.
TASK_BOOKKEEPING = (
    "total_annotations",
    "cancelled_annotations",
    "total_predictions",
    "is_labeled",
    "version",
    "inner_id",
    "updated_by_id",
    "useful_annotations",
    "completed_at",
    "predictions_score",
    "fsm_state",
)
ANNOTATION_BOOKKEEPING = ("updated_by_id", "last_action", "last_created_by_id")


def task_state(task: Task) -> dict[str, Any]:
    return column_values(task, exclude=TASK_BOOKKEEPING)


def annotation_state(annotation: Annotation) -> dict[str, Any]:
    return column_values(annotation, exclude=ANNOTATION_BOOKKEEPING)


def task_created(session: Session, actor: AuditActor, task: Task) -> None:
    record_audit(session, actor, "task.created", ("task", task.id), project_id=task.project_id)


def task_updated(
    session: Session, actor: AuditActor, task: Task, *, before: dict[str, Any]
) -> None:
    changes = changes_between(before, task_state(task))
    if changes:
        record_audit(
            session,
            actor,
            "task.updated",
            ("task", task.id),
            project_id=task.project_id,
            changes=changes,
        )


def task_deleted(session: Session, actor: AuditActor, *, task_id: int, project_id: int) -> None:
    record_audit(session, actor, "task.deleted", ("task", task_id), project_id=project_id)


def tasks_deleted(
    session: Session,
    actor: AuditActor,
    *,
    project_id: int,
    deleted: int,
    selection: Any = None,
) -> None:
    """Many tasks at once (a project's, or a data manager selection's): one entry with the
    count and the selection as the client sent it (ids bounded)."""
    changes: dict[str, Any] = {"count": deleted}
    if selection is not None:
        changes["selection"] = selection
    record_audit(
        session,
        actor,
        "tasks.deleted",
        ("project", project_id),
        project_id=project_id,
        changes=changes,
    )


def tasks_imported(
    session: Session,
    actor: AuditActor,
    *,
    project_id: int,
    import_id: int | None,
    response: dict[str, Any],
) -> None:
    """An import: one entry with its counts, whatever its size."""
    counts = {
        key: response.get(key)
        for key in ("task_count", "annotation_count", "prediction_count")
        if response.get(key) is not None
    }
    record_audit(
        session,
        actor,
        "tasks.imported",
        ("import", import_id if import_id is not None else project_id),
        project_id=project_id,
        changes=counts,
    )


def annotation_created(session: Session, actor: AuditActor, annotation: Annotation) -> None:
    record_audit(
        session,
        actor,
        "annotation.created",
        ("annotation", annotation.id),
        project_id=annotation.project_id,
        changes={
            "task": {"old": None, "new": annotation.task_id},
            "was_cancelled": {"old": None, "new": annotation.was_cancelled},
        },
    )


def annotation_updated(
    session: Session, actor: AuditActor, annotation: Annotation, *, before: dict[str, Any]
) -> None:
    changes = changes_between(before, annotation_state(annotation))
    if changes:
        record_audit(
            session,
            actor,
            "annotation.updated",
            ("annotation", annotation.id),
            project_id=annotation.project_id,
            changes=changes,
        )


def annotation_deleted(session: Session, actor: AuditActor, annotation: Annotation) -> None:
    record_audit(
        session,
        actor,
        "annotation.deleted",
        ("annotation", annotation.id),
        project_id=annotation.project_id,
        changes={"task": {"old": annotation.task_id, "new": None}},
    )


#: Data manager actions by the entry they leave (others: `tasks.<action id>`).
ACTION_NAMES = {
    "delete_tasks": "tasks.deleted",
    "delete_tasks_annotations": "annotations.deleted",
    "delete_tasks_predictions": "predictions.deleted",
}


def bulk_action_run(
    session: Session,
    actor: AuditActor,
    *,
    project_id: int,
    action_id: str,
    processed: int | None,
    selected_items: Any,
) -> None:
    """A data manager action (delete tasks, annotations, predictions, …): one entry."""
    changes: dict[str, Any] = {"selection": _bounded_selection(selected_items)}
    if processed is not None:
        changes["count"] = processed
    record_audit(
        session,
        actor,
        ACTION_NAMES.get(action_id, f"tasks.{action_id}"),
        ("project", project_id),
        project_id=project_id,
        changes=changes,
    )


def _bounded_selection(selected_items: Any) -> Any:
    if not isinstance(selected_items, dict):
        return None
    bounded: dict[str, Any] = {"all": bool(selected_items.get("all"))}
    for key in ("included", "excluded"):
        ids = selected_items.get(key)
        if isinstance(ids, list):
            bounded[key] = bounded_ids(ids)
    return bounded


def review_recorded(
    session: Session,
    actor: AuditActor,
    *,
    verb: str,
    review_id: int,
    annotation_id: int,
    task_id: int,
    project_id: int,
    accepted: bool | None,
    changes: dict[str, Any] | None = None,
) -> None:
    """`review.created`, `review.updated` or `review.deleted` (`verb`), for the review
    domain, in the review's transaction."""
    summary: dict[str, Any] = {
        "annotation": {"old": None, "new": annotation_id},
        "task": {"old": None, "new": task_id},
    }
    if accepted is not None:
        summary["accepted"] = {"old": None, "new": accepted}
    summary.update(changes or {})
    record_audit(
        session,
        actor,
        f"review.{verb}",
        ("review", review_id),
        project_id=project_id,
        changes=summary,
    )

"""Annotations: validated against the labeling config, counted on write. Callers commit."""

from __future__ import annotations

from typing import Any

from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import Conflict, NotFound, ValidationFailed
from labelops_common.labelconfig import validate_result
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from task_svc.annotations.models import Annotation
from task_svc.annotations.schemas import AnnotationCreate, AnnotationUpdate
from task_svc.counts import service as counts
from task_svc.drafts.models import Draft
from task_svc.events import publisher
from task_svc.labelstream.models import TaskLock
from task_svc.predictions.models import Prediction
from task_svc.tasks.models import Task


def check_result(project: ProjectInfo, result: list[Any], *, field: str = "result") -> None:
    """A region naming an unknown control or object, or a label the config lacks, is a 400."""
    if project.config is None:
        return
    problems = validate_result(project.config, result)
    if problems:
        raise ValidationFailed({field: problems})


def _clear_other_ground_truth(session: Session, task: Task, keep_id: int) -> int:
    result = session.execute(
        update(Annotation)
        .where(Annotation.task_id == task.id, Annotation.id != keep_id, Annotation.ground_truth)
        .values(ground_truth=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _check_parents(session: Session, task: Task, body: AnnotationCreate) -> None:
    """A parent annotation or prediction is one of this task's: an id of another task (or
    of another organization's project) is a 400, so nothing links across tenants."""
    problems: dict[str, list[str]] = {}
    for field, model, parent_id in (
        ("parent_annotation", Annotation, body.parent_annotation),
        ("parent_prediction", Prediction, body.parent_prediction),
    ):
        if parent_id is None:
            continue
        found = session.scalar(select(model.task_id).where(model.id == parent_id))
        if found != task.id:
            problems[field] = [f"No {field.removeprefix('parent_')} {parent_id} on this task."]
    if problems:
        raise ValidationFailed(problems)


def _own_draft(session: Session, task: Task, draft_id: int | None, user_id: int) -> Draft | None:
    """The caller's draft on this task that the annotation replaces. A draft that is gone
    is ignored, as Label Studio does (a stale id from the editor must not fail a submit);
    another user's draft, or one on another task, is refused and left as it is."""
    if draft_id is None:
        return None
    draft = session.get(Draft, draft_id)
    if draft is None:
        return None
    if draft.user_id != user_id or draft.task_id != task.id:
        raise ValidationFailed({"draft_id": ["Not a draft of yours on this task."]})
    return draft


def create_annotation(
    session: Session, *, task: Task, project: ProjectInfo, body: AnnotationCreate, user_id: int
) -> Annotation:
    """`task` must be locked (`access.lock_task`) so concurrent annotators count right.

    The author is always the caller (`body.completed_by` is ignored, as Label Studio sets
    `completed_by` from the request's user); the caller's right to set `ground_truth` is
    the router's to check."""
    if not body.was_cancelled:
        check_result(project, body.result)
    _check_parents(session, task, body)
    draft = _own_draft(session, task, body.draft_id, user_id)
    if body.unique_id and session.scalar(
        select(Annotation.id).where(Annotation.unique_id == body.unique_id)
    ):
        raise Conflict("Annotation with this unique id already exists")
    now = utcnow()
    values: dict[str, Any] = {
        "task_id": task.id,
        "project_id": task.project_id,
        "completed_by_id": user_id,
        "updated_by_id": user_id,
        "result": body.result,
        "was_cancelled": body.was_cancelled,
        "ground_truth": body.ground_truth,
        "lead_time": body.lead_time,
        "parent_prediction_id": body.parent_prediction,
        "parent_annotation_id": body.parent_annotation,
        "unique_id": body.unique_id,
        "last_action": "skipped" if body.was_cancelled else "submitted",
        "created_at": now,
        "updated_at": now,
    }
    if draft is not None:
        values["draft_created_at"] = draft.created_at
        session.delete(draft)
    try:
        # An INSERT ... RETURNING that loads the new row: no unit-of-work bookkeeping for
        # a row written once per request.
        annotation = session.scalars(insert(Annotation).returning(Annotation), [values]).one()
    except IntegrityError:
        raise Conflict("Annotation with this unique id already exists") from None
    cleared = _clear_other_ground_truth(session, task, annotation.id) if body.ground_truth else 0
    counts.refresh_annotation_counters(
        session,
        task,
        project,
        ground_truth_delta=int(body.ground_truth) - cleared,
        updated_at=now,
    )
    # Submitting (or skipping) releases the caller's and the annotator's hold on the task
    # in the label stream. (A table-level DELETE: it matches no loaded object.)
    locks = TaskLock.__table__.c
    release = delete(TaskLock.__table__)  # type: ignore[arg-type]
    session.execute(release.where(locks.task_id == task.id, locks.user_id == user_id))
    publisher.publish_after_commit(
        session,
        publisher.ANNOTATION_CREATED,
        project_id=task.project_id,
        payload=publisher.annotation_payload(
            annotation_id=annotation.id, task_id=task.id, project_id=task.project_id
        ),
    )
    return annotation


def get_annotation(session: Session, annotation_id: int) -> Annotation:
    annotation = session.get(Annotation, annotation_id)
    if annotation is None:
        raise NotFound()
    return annotation


def update_annotation(
    session: Session,
    *,
    annotation: Annotation,
    task: Task,
    project: ProjectInfo,
    body: AnnotationUpdate,
    user_id: int,
) -> Annotation:
    if body.result is not None:
        check_result(project, body.result)
        annotation.result = body.result
    if body.was_cancelled is not None:
        annotation.was_cancelled = body.was_cancelled
    if body.lead_time is not None:
        annotation.lead_time = body.lead_time
    gt_delta = 0
    if body.ground_truth is not None and body.ground_truth != annotation.ground_truth:
        annotation.ground_truth = body.ground_truth
        gt_delta = 1 if body.ground_truth else -1
    if annotation.ground_truth:
        gt_delta -= _clear_other_ground_truth(session, task, annotation.id)
    annotation.updated_by_id = user_id
    annotation.updated_at = utcnow()
    annotation.last_action = "updated"
    counts.refresh_annotation_counters(
        session, task, project, ground_truth_delta=gt_delta, updated_at=annotation.updated_at
    )
    publisher.publish_after_commit(
        session,
        publisher.ANNOTATION_UPDATED,
        project_id=task.project_id,
        payload=publisher.annotation_payload(
            annotation_id=annotation.id, task_id=task.id, project_id=task.project_id
        ),
    )
    return annotation


def delete_annotation(
    session: Session, *, annotation: Annotation, task: Task, project: ProjectInfo
) -> None:
    gt_delta = -1 if annotation.ground_truth else 0
    publisher.publish_after_commit(
        session,
        publisher.ANNOTATIONS_DELETED,
        project_id=task.project_id,
        payload={"annotation_ids": [annotation.id], "task_id": task.id},
    )
    session.delete(annotation)
    counts.refresh_annotation_counters(
        session, task, project, ground_truth_delta=gt_delta, updated_at=utcnow()
    )


def annotator_ids(session: Session, *, project_id: int) -> list[int]:
    """The distinct authors of a project's annotations, in id order."""
    return list(
        session.scalars(
            select(Annotation.completed_by_id)
            .where(Annotation.project_id == project_id, Annotation.completed_by_id.is_not(None))
            .distinct()
            .order_by(Annotation.completed_by_id)
        )
    )

"""Drafts: a user's unsaved work on a task, fresh or on top of an annotation. Callers commit.

A draft belongs to the user who wrote it: nobody else sees or changes it (another user's
draft is not found). A postponed draft (`was_postponed`) sends the task to the back of the
user's label stream, so postponing also gives up the user's hold on the task.
"""

from __future__ import annotations

from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import NotFound
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from task_svc.annotations import service as annotation_service
from task_svc.annotations.models import Annotation
from task_svc.drafts.models import Draft
from task_svc.drafts.schemas import DraftCreate, DraftUpdate
from task_svc.labelstream.models import TaskLock
from task_svc.tasks.models import Task


def user_drafts(session: Session, *, task_id: int, user_id: int) -> list[Draft]:
    return list(
        session.scalars(
            select(Draft)
            .where(Draft.task_id == task_id, Draft.user_id == user_id)
            .order_by(Draft.id)
        )
    )


def get_own_draft(session: Session, *, draft_id: int, user_id: int) -> Draft:
    """The user's own draft; anyone else's is not found, so draft ids don't leak."""
    draft = session.get(Draft, draft_id)
    if draft is None or draft.user_id != user_id:
        raise NotFound()
    return draft


def task_annotation(session: Session, *, task: Task, annotation_id: int) -> Annotation:
    annotation = session.get(Annotation, annotation_id)
    if annotation is None or annotation.task_id != task.id:
        raise NotFound()
    return annotation


def _release_lock(session: Session, *, task_id: int, user_id: int) -> None:
    session.execute(
        delete(TaskLock).where(TaskLock.task_id == task_id, TaskLock.user_id == user_id)
    )


def create_draft(
    session: Session,
    *,
    task: Task,
    project: ProjectInfo,
    body: DraftCreate,
    user_id: int,
    annotation_id: int | None = None,
) -> Draft:
    """Partial and empty results are fine; what is there must fit the labeling config."""
    annotation_service.check_result(project, body.result)
    now = utcnow()
    draft = Draft(
        task_id=task.id,
        project_id=task.project_id,
        annotation_id=annotation_id,
        user_id=user_id,
        result=body.result,
        lead_time=body.lead_time,
        was_postponed=body.was_postponed,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    if body.was_postponed:
        _release_lock(session, task_id=task.id, user_id=user_id)
    session.flush()
    return draft


def update_draft(
    session: Session, *, draft: Draft, project: ProjectInfo, body: DraftUpdate
) -> Draft:
    if body.result is not None:
        annotation_service.check_result(project, body.result)
        draft.result = body.result
    if body.lead_time is not None:
        draft.lead_time = body.lead_time
    if body.was_postponed is not None:
        draft.was_postponed = body.was_postponed
        if body.was_postponed:
            _release_lock(session, task_id=draft.task_id, user_id=draft.user_id)
    draft.updated_at = utcnow()
    session.flush()
    return draft


def delete_draft(session: Session, *, draft: Draft) -> None:
    session.delete(draft)
    session.flush()


def convert_to_draft(
    session: Session, *, annotation: Annotation, task: Task, project: ProjectInfo, user_id: int
) -> Draft:
    """Turn an annotation back into the caller's fresh draft; the annotation is deleted.

    `task` must be locked (`access.lock_task`): deleting the annotation recounts it.
    """
    now = utcnow()
    draft = Draft(
        task_id=task.id,
        project_id=task.project_id,
        annotation_id=None,
        user_id=user_id,
        result=annotation.result,
        lead_time=annotation.lead_time,
        was_postponed=False,
        created_at=now,
        updated_at=now,
    )
    # Drafts written on top of the annotation go with it (the foreign key cascades too).
    session.execute(delete(Draft).where(Draft.annotation_id == annotation.id))
    annotation_service.delete_annotation(
        session, annotation=annotation, task=task, project=project, user_id=user_id
    )
    session.add(draft)
    session.flush()
    return draft

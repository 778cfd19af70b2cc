"""Comments: written, resolved and deleted with the task's counters in the same transaction.

The counters move by an `UPDATE tasks SET n = n + 1`, which PostgreSQL applies atomically
under concurrent writers, so they stay exact without locking the task first. Which comments
a caller sees follows the annotations they see (`access.annotations_visible_to`): a comment
on an annotation hidden from them is hidden too; a comment on the task is for everyone who
sees the task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from labelops_common.db import utcnow
from labelops_common.http.errors import NotFound
from sqlalchemy import ColumnElement, exists, false, func, or_, select, update
from sqlalchemy.orm import Session

from task_svc.annotations.models import Annotation
from task_svc.comments.models import Comment
from task_svc.tasks.models import Task

#: `ordering=` values (Label Studio Enterprise's list takes `id` and `-id`, and the times).
ORDERINGS: dict[str, ColumnElement[Any]] = {
    "id": Comment.id.asc(),
    "-id": Comment.id.desc(),
    "created_at": Comment.created_at.asc(),
    "-created_at": Comment.created_at.desc(),
}


def _count_on_task(session: Session, task_id: int, *, total: int, unresolved: int) -> None:
    session.execute(
        update(Task)
        .where(Task.id == task_id)
        .values(
            comment_count=Task.comment_count + total,
            unresolved_comment_count=Task.unresolved_comment_count + unresolved,
            last_comment_updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


def create_comment(
    session: Session,
    *,
    task: Task,
    annotation_id: int | None,
    user_id: int,
    text: str,
    region_ref: dict[str, Any] | None,
    is_resolved: bool,
) -> Comment:
    now = utcnow()
    comment = Comment(
        project_id=task.project_id,
        task_id=task.id,
        annotation_id=annotation_id,
        created_by_id=user_id,
        text=text,
        region_ref=region_ref,
        is_resolved=is_resolved,
        resolved_at=now if is_resolved else None,
        created_at=now,
        updated_at=now,
    )
    session.add(comment)
    session.flush()
    _count_on_task(session, task.id, total=1, unresolved=0 if is_resolved else 1)
    return comment


def authors_by_task(session: Session, tasks: Sequence[Task]) -> dict[int, list[int]]:
    """Who commented on each task of a page (one query, only for tasks with comments)."""
    commented = [task.id for task in tasks if task.comment_count > 0]
    authors: dict[int, list[int]] = {}
    if not commented:
        return authors
    for task_id, user_id in session.execute(
        select(Comment.task_id, Comment.created_by_id)
        .where(Comment.task_id.in_(commented))
        .distinct()
        .order_by(Comment.task_id, Comment.created_by_id)
    ):
        authors.setdefault(task_id, []).append(user_id)
    return authors


def get_comment(session: Session, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound()
    return comment


def update_comment(
    session: Session,
    *,
    comment: Comment,
    text: str | None = None,
    region_ref: dict[str, Any] | None = None,
    is_resolved: bool | None = None,
) -> Comment:
    now = utcnow()
    if text is not None:
        comment.text = text
    if region_ref is not None:
        comment.region_ref = region_ref
    if is_resolved is not None and is_resolved != comment.is_resolved:
        comment.is_resolved = is_resolved
        comment.resolved_at = now if is_resolved else None
        _count_on_task(session, comment.task_id, total=0, unresolved=-1 if is_resolved else 1)
    comment.updated_at = now
    session.flush()
    return comment


def delete_comment(session: Session, *, comment: Comment) -> None:
    _count_on_task(session, comment.task_id, total=-1, unresolved=0 if comment.is_resolved else -1)
    session.delete(comment)
    session.flush()


@dataclass(frozen=True)
class Scope:
    """One project's comments as one caller sees them: `annotations_by` None sees every
    comment, else only comments on the task or on that user's annotations."""

    project_id: int
    annotations_by: int | None


def _visible(scope: Scope) -> ColumnElement[bool]:
    in_project = Comment.project_id == scope.project_id
    if scope.annotations_by is None:
        return in_project
    own = exists().where(
        Annotation.id == Comment.annotation_id,
        Annotation.completed_by_id == scope.annotations_by,
    )
    return in_project & or_(Comment.annotation_id.is_(None), own)


def _selection(
    scopes: Sequence[Scope], task_id: int | None, annotation_id: int | None
) -> list[ColumnElement[bool]]:
    where = [or_(*(_visible(s) for s in scopes)) if scopes else false()]
    if task_id is not None:
        where.append(Comment.task_id == task_id)
    if annotation_id is not None:
        where.append(Comment.annotation_id == annotation_id)
    return where


def count_comments(
    session: Session,
    *,
    scopes: Sequence[Scope],
    task_id: int | None = None,
    annotation_id: int | None = None,
) -> int:
    where = _selection(scopes, task_id, annotation_id)
    return int(session.scalar(select(func.count()).select_from(Comment).where(*where)) or 0)


def list_comments(
    session: Session,
    *,
    scopes: Sequence[Scope],
    task_id: int | None = None,
    annotation_id: int | None = None,
    ordering: str = "id",
    offset: int = 0,
    limit: int | None = None,
) -> list[Comment]:
    query = (
        select(Comment)
        .where(*_selection(scopes, task_id, annotation_id))
        .order_by(ORDERINGS[ordering], Comment.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))

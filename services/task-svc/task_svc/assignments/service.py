"""Assigning tasks to people: in bulk from a data-manager selection, or one task at a time.
Callers commit; a refused request (a cap exceeded) leaves the transaction to be rolled back.

A bulk assignment is one INSERT … SELECT over the selection (tasks by users), however many
tasks it names, with ON CONFLICT DO NOTHING so assigning twice is harmless. The cap
(`max_tasks_per_person`) counts a person's open assignments of that kind — tasks they
have not annotated or skipped yet — after the insert, under a per-person advisory lock,
so two managers assigning at once cannot both slip under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import ValidationFailed
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    column,
    delete,
    exists,
    func,
    literal,
    select,
    true,
    values,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from task_svc.annotations.models import Annotation
from task_svc.assignments.members import MemberRoles
from task_svc.assignments.models import ANNOTATE, REVIEW, TaskAssignment
from task_svc.tasks.models import Task

#: Roles that may be given tasks to review.
REVIEWING_ROLES = frozenset({"owner", "administrator", "manager", "reviewer"})


@dataclass(frozen=True)
class Queue:
    user_id: int
    kind: str
    assigned: int
    done: int


def check_assignees(roles: MemberRoles, *, kind: str) -> None:
    """Every assignee works in the project, and a reviewer's queue goes to reviewers and up."""
    strangers = [user_id for user_id, role in roles.items() if role is None]
    if strangers:
        raise ValidationFailed(
            {"users": [f"User {user_id} is not a member of this project." for user_id in strangers]}
        )
    if kind == REVIEW:
        annotators = [user_id for user_id, role in roles.items() if role not in REVIEWING_ROLES]
        if annotators:
            raise ValidationFailed(
                {
                    "users": [
                        f"User {user_id} is an annotator and cannot be assigned to review."
                        for user_id in annotators
                    ]
                }
            )


def _lock_people(session: Session, *, project_id: int, user_ids: Sequence[int], kind: str) -> None:
    """Serialize assignments per person and kind (in id order, so two requests cannot
    deadlock) until commit."""
    for user_id in sorted(set(user_ids)):
        session.execute(
            select(
                func.pg_advisory_xact_lock(
                    func.hashtextextended(f"task_assignments:{project_id}:{user_id}:{kind}", 0)
                )
            )
        )


def _finished_by_assignee() -> ColumnElement[bool]:
    """The assignee has annotated (or skipped) the assigned task."""
    return exists(
        select(Annotation.id).where(
            Annotation.task_id == TaskAssignment.task_id,
            Annotation.completed_by_id == TaskAssignment.user_id,
        )
    )


def open_counts(
    session: Session, *, project_id: int, user_ids: Sequence[int], kind: str
) -> dict[int, int]:
    """Each person's open assignments of this kind in the project (from their queue index)."""
    conditions = [
        TaskAssignment.project_id == project_id,
        TaskAssignment.user_id.in_(list(user_ids)),
        TaskAssignment.kind == kind,
    ]
    if kind == ANNOTATE:
        conditions.append(~_finished_by_assignee())
    rows = session.execute(
        select(TaskAssignment.user_id, func.count())
        .where(*conditions)
        .group_by(TaskAssignment.user_id)
    )
    return {int(user_id): int(count) for user_id, count in rows}


def _enforce_cap(
    session: Session, *, project: ProjectInfo, user_ids: Sequence[int], kind: str
) -> None:
    cap = project.max_tasks_per_person
    if cap <= 0:
        return
    held = open_counts(session, project_id=project.id, user_ids=user_ids, kind=kind)
    over = sorted((user_id, count) for user_id, count in held.items() if count > cap)
    if over:
        raise ValidationFailed(
            {
                "users": [
                    f"User {user_id} would hold {count} open tasks; this project's cap "
                    f"(max_tasks_per_person) is {cap}."
                    for user_id, count in over
                ]
            }
        )


def assign(
    session: Session,
    *,
    project: ProjectInfo,
    where: Sequence[ColumnElement[bool]],
    user_ids: Sequence[int],
    kind: str,
    assigned_by: int,
) -> int:
    """Assign every task meeting `where` to each user; returns the assignments made."""
    people = sorted(set(user_ids))
    _lock_people(session, project_id=project.id, user_ids=people, kind=kind)
    assignees = values(column("user_id", BigInteger), name="assignees").data(
        [(user_id,) for user_id in people]
    )
    chosen = (
        select(
            Task.id,
            literal(project.id, BigInteger),
            assignees.c.user_id,
            literal(kind),
            literal(assigned_by, BigInteger),
            literal(utcnow()),
        )
        .select_from(Task)
        .join(assignees, true())
        .where(Task.project_id == project.id, *where)
    )
    result = session.execute(
        insert(TaskAssignment)
        .from_select(
            ["task_id", "project_id", "user_id", "kind", "assigned_by_id", "created_at"], chosen
        )
        .on_conflict_do_nothing(constraint="uq_task_assignments_task_user_kind")
    )
    _enforce_cap(session, project=project, user_ids=people, kind=kind)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def unassign(
    session: Session,
    *,
    project: ProjectInfo,
    where: Sequence[ColumnElement[bool]],
    user_ids: Sequence[int] | None,
    kind: str | None,
) -> int:
    """Remove the assignments (of these users and kind, if given) of every task meeting
    `where`; returns how many went."""
    conditions: list[ColumnElement[bool]] = [
        TaskAssignment.project_id == project.id,
        TaskAssignment.task_id.in_(select(Task.id).where(Task.project_id == project.id, *where)),
    ]
    if user_ids is not None:
        conditions.append(TaskAssignment.user_id.in_(list(user_ids)))
    if kind is not None:
        conditions.append(TaskAssignment.kind == kind)
    result = session.execute(delete(TaskAssignment).where(*conditions))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def replace(
    session: Session,
    *,
    project: ProjectInfo,
    task_id: int,
    user_ids: Sequence[int],
    kind: str,
    assigned_by: int,
) -> None:
    """The task's assignees of this kind become exactly `user_ids` (Label Studio's PATCH)."""
    session.execute(
        delete(TaskAssignment).where(
            TaskAssignment.task_id == task_id,
            TaskAssignment.kind == kind,
            TaskAssignment.user_id.not_in(list(user_ids)),
        )
    )
    assign(
        session,
        project=project,
        where=[Task.id == task_id],
        user_ids=user_ids,
        kind=kind,
        assigned_by=assigned_by,
    )


def task_assignments(
    session: Session,
    *,
    task_id: int,
    user_ids: Sequence[int] | None = None,
    kind: str | None = None,
) -> list[TaskAssignment]:
    query = select(TaskAssignment).where(TaskAssignment.task_id == task_id)
    if user_ids is not None:
        query = query.where(TaskAssignment.user_id.in_(list(user_ids)))
    if kind is not None:
        query = query.where(TaskAssignment.kind == kind)
    return list(session.scalars(query.order_by(TaskAssignment.id)))


def assignees_of(session: Session, task_ids: Sequence[int]) -> dict[int, list[int]]:
    """Who is assigned to annotate each task (the data manager's `assignees` column)."""
    found: dict[int, list[int]] = {task_id: [] for task_id in task_ids}
    if not task_ids:
        return found
    rows = session.execute(
        select(TaskAssignment.task_id, TaskAssignment.user_id)
        .where(TaskAssignment.task_id.in_(list(task_ids)), TaskAssignment.kind == ANNOTATE)
        .order_by(TaskAssignment.task_id, TaskAssignment.user_id)
    )
    for task_id, user_id in rows:
        found[int(task_id)].append(int(user_id))
    return found


def queues(session: Session, *, project_id: int) -> list[Queue]:
    """Each person's queue sizes and done counts in the project, by person and kind."""
    finished = and_(TaskAssignment.kind == ANNOTATE, _finished_by_assignee())
    rows = session.execute(
        select(
            TaskAssignment.user_id,
            TaskAssignment.kind,
            func.count(),
            func.count().filter(finished),
        )
        .where(TaskAssignment.project_id == project_id)
        .group_by(TaskAssignment.user_id, TaskAssignment.kind)
        .order_by(TaskAssignment.user_id, TaskAssignment.kind)
    )
    return [
        Queue(user_id=int(user_id), kind=kind, assigned=int(assigned), done=int(done))
        for user_id, kind, assigned, done in rows
    ]

"""The label stream: which task an annotator gets next, held for them with a lock. Callers commit.

Order of the queues (Label Studio's `get_next_task`):

1. a task the user already holds an unexpired lock on ("Task lock");
2. tasks whose annotation by the user a reviewer rejected ("Rejected queue": the task went
   back to its annotator with the reason);
3. with overlap > 1, tasks others have started but not finished ("Breadth first queue");
4. the project's sampling: sequential by the data manager's ordering ("Sequence queue",
   ids ascending by default), uniform random ("Uniform random queue") or lowest prediction
   score first (of the project's model version when it names one), random when no task
   has a score ("Active learning or random queue");
5. with `skip_queue=REQUEUE_FOR_ME`, tasks the user skipped ("Skipped queue");
6. tasks the user postponed ("Postponed draft queue").

In an `assigned_only` project every queue holds only the tasks assigned to the user. A lock
lasts the project's reservation timeout (the service's default when it sets none): when
it runs out, the task is free for the next person.

A task is never offered to a user who annotated or skipped it (except through 2 and 5), nor once
it is labeled, nor while (locks of other users + distinct finished annotators) reaches its
overlap. Every query is bounded by an index on `tasks` and a LIMIT, and the per-user
exclusions are NOT EXISTS probes on indexed child rows, so a million-task project costs
the same as a small one.

Races: two annotators asking at once must not both get a task with room for one. A
candidate's row is locked with FOR NO KEY UPDATE SKIP LOCKED and the room is checked again
in a fresh statement (READ COMMITTED sees every lock committed before ours), so
check-then-insert is serialized per task while others move on to other tasks.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import ValidationFailed
from sqlalchemy import ColumnElement, and_, case, delete, distinct, exists, false, func, select
from sqlalchemy.orm import Session

from task_svc.annotations.models import Annotation
from task_svc.assignments.models import ANNOTATE, TaskAssignment
from task_svc.counts import service as counts
from task_svc.datamanager.filters import (
    FilterError,
    compile_filters,
    compile_ordering,
    compile_selected_items,
)
from task_svc.drafts.models import Draft
from task_svc.labelstream.models import TaskLock
from task_svc.predictions.models import Prediction
from task_svc.tasks.models import Task

TASK_LOCK = "Task lock"
REJECTED = "Rejected queue"
BREADTH_FIRST = "Breadth first queue"
SEQUENCE = "Sequence queue"
UNIFORM = "Uniform random queue"
UNCERTAINTY = "Active learning or random queue"
SKIPPED = "Skipped queue"
POSTPONED = "Postponed draft queue"

SEQUENTIAL_SAMPLING = "Sequential sampling"
UNIFORM_SAMPLING = "Uniform sampling"
UNCERTAINTY_SAMPLING = "Uncertainty sampling"

#: Label Studio's RANDOM_NEXT_TASK_SAMPLE_SIZE: uniform sampling picks among this many.
RANDOM_SAMPLE_SIZE = 50
#: Candidates read per round before trying to lock them.
CANDIDATE_PAGE = 20
#: Rounds of candidates before a queue gives up (each round skips tasks others just took).
MAX_ROUNDS = 5


@dataclass(frozen=True)
class Scope:
    """The data manager's restriction of the queue: filters, selection and ordering."""

    conditions: list[ColumnElement[bool]] = field(default_factory=list)
    ordering: list[ColumnElement[Any]] | None = None


@dataclass(frozen=True)
class Picked:
    task: Task
    queue: str
    lock: TaskLock


def scope_from(params: dict[str, Any] | None) -> Scope:
    """Data-manager params (`filters`, `ordering`, `selectedItems`) as a Scope; bad ones are 400."""
    if not params:
        return Scope()
    try:
        conditions: list[ColumnElement[bool]] = []
        where = compile_filters(params.get("filters"))
        if where is not None:
            conditions.append(where)
        selected = compile_selected_items(params.get("selectedItems"))
        if selected is not None:
            conditions.append(selected)
        raw_ordering = params.get("ordering")
        ordering = compile_ordering(raw_ordering) if raw_ordering else None
    except FilterError as exc:
        raise ValidationFailed({exc.field: [exc.reason]}) from None
    return Scope(conditions=conditions, ordering=ordering)


# --------------------------------------------------------------------------------------
# Conditions on `tasks`
# --------------------------------------------------------------------------------------


def _done_by(user_id: int, *, skipped: bool | None = None) -> ColumnElement[bool]:
    """The user has an annotation on the task (only skips / only non-skips, if asked)
    that no reviewer rejected: a rejected one is theirs to do again."""
    mine = select(Annotation.id).where(
        Annotation.task_id == Task.id,
        Annotation.completed_by_id == user_id,
        counts.not_rejected(Annotation.review_status),
    )
    if skipped is not None:
        mine = mine.where(Annotation.was_cancelled == skipped)
    return exists(mine)


def _postponed_by(user_id: int) -> ColumnElement[bool]:
    return exists(
        select(Draft.id).where(
            Draft.task_id == Task.id, Draft.user_id == user_id, Draft.was_postponed
        )
    )


def _has_room(project: ProjectInfo, user_id: int, now: datetime) -> ColumnElement[bool]:
    """Fewer than `overlap` slots are taken by finished annotators and other users' locks."""
    finished = counts.finished_annotation(
        Annotation.was_cancelled,
        skip_queue=project.skip_queue,
        review_status=Annotation.review_status,
    )
    annotators = (
        select(func.count(distinct(Annotation.completed_by_id)))
        .where(Annotation.task_id == Task.id, finished)
        .scalar_subquery()
    )
    holders = (
        select(func.count())
        .select_from(TaskLock)
        .where(
            TaskLock.task_id == Task.id,
            TaskLock.user_id != user_id,
            TaskLock.expires_at > now,
        )
        .scalar_subquery()
    )
    # Most candidates have no annotation at all; skip the recount for them.
    untouched = and_(Task.total_annotations == 0, Task.cancelled_annotations == 0)
    taken = case((untouched, 0), else_=annotators) + holders
    return taken < func.coalesce(Task.overlap, 1)


def _assigned_to(project: ProjectInfo, user_id: int) -> list[ColumnElement[bool]]:
    """In an `assigned_only` project, only the tasks assigned to the user for annotation
    (through their queue index); elsewhere nothing more."""
    if not project.assigned_only:
        return []
    return [
        Task.id.in_(
            select(TaskAssignment.task_id).where(
                TaskAssignment.project_id == project.id,
                TaskAssignment.user_id == user_id,
                TaskAssignment.kind == ANNOTATE,
            )
        )
    ]


def _open_to(
    project: ProjectInfo, user_id: int, now: datetime, scope: Scope
) -> list[ColumnElement[bool]]:
    """What every queue requires of a task, whoever's work excludes it."""
    return [
        Task.project_id == project.id,
        Task.is_labeled == false(),
        _has_room(project, user_id, now),
        *_assigned_to(project, user_id),
        *scope.conditions,
    ]


# --------------------------------------------------------------------------------------
# Taking a task
# --------------------------------------------------------------------------------------


def _claim(
    session: Session, task_id: int, conditions: Sequence[ColumnElement[bool]], *, wait: bool
) -> tuple[Task | None, bool]:
    """The task, row-locked, if it still meets `conditions` once nobody else can take it.

    Returns (task, busy): `busy` is True when another transaction holds the row and `wait`
    was off. Each attempt runs in a savepoint, so a row that turns out to have no room is
    unlocked at once: a caller never holds one row while waiting for another.
    """
    query = (
        select(Task)
        .where(Task.id == task_id, *conditions)
        .execution_options(populate_existing=True)
    )
    savepoint = session.begin_nested()
    locked = session.scalar(
        select(Task.id)
        .where(Task.id == task_id)
        .with_for_update(skip_locked=not wait, key_share=True)
    )
    if locked is None:
        savepoint.rollback()
        return None, not wait  # someone is taking or annotating it right now (or it is gone)
    # A fresh statement: sees every lock committed before we got the row.
    task = session.scalars(query).first()
    if task is None:
        savepoint.rollback()
        return None, False
    savepoint.commit()
    return task, False


def _claim_first(
    session: Session, task_ids: Sequence[int], conditions: Sequence[ColumnElement[bool]]
) -> tuple[Task | None, list[int]]:
    """The first of `task_ids` that can be claimed without waiting; also the busy ones."""
    busy: list[int] = []
    for task_id in task_ids:
        task, is_busy = _claim(session, task_id, conditions, wait=False)
        if task is not None:
            return task, busy
        if is_busy:
            busy.append(task_id)
    return None, busy


def _claim_waiting(
    session: Session, task_ids: Sequence[int], conditions: Sequence[ColumnElement[bool]]
) -> Task | None:
    """Wait for the busy rows in turn: a competitor's pick may leave room (overlap > 1)."""
    for task_id in task_ids:
        task, _ = _claim(session, task_id, conditions, wait=True)
        if task is not None:
            return task
    return None


def _hold(
    session: Session, *, task: Task, user_id: int, now: datetime, ttl_seconds: int
) -> TaskLock:
    """Lock `task` for the user (one task per user and project; expired locks go)."""
    expires_at = now + timedelta(seconds=ttl_seconds)
    session.execute(delete(TaskLock).where(TaskLock.task_id == task.id, TaskLock.expires_at <= now))
    session.execute(
        delete(TaskLock).where(
            TaskLock.user_id == user_id,
            TaskLock.project_id == task.project_id,
            TaskLock.task_id != task.id,
        )
    )
    lock = session.get(TaskLock, (task.id, user_id), populate_existing=True)
    if lock is None:
        lock = TaskLock(
            task_id=task.id,
            user_id=user_id,
            project_id=task.project_id,
            expires_at=expires_at,
            unique_id=str(uuid.uuid4()),
        )
        session.add(lock)
    else:
        lock.expires_at = expires_at
    session.flush()
    return lock


def _first_claimable(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    ordering: Sequence[Any],
    *,
    base: Any = None,
) -> Task | None:
    """The first task in `ordering` meeting `conditions` that can be claimed."""
    tried: list[int] = []
    busy: list[int] = []
    for _ in range(MAX_ROUNDS):
        query = base if base is not None else select(Task.id)
        query = query.where(*conditions)
        if tried:
            query = query.where(Task.id.not_in(tried))
        ids = list(dict.fromkeys(session.scalars(query.order_by(*ordering).limit(CANDIDATE_PAGE))))
        task, page_busy = _claim_first(session, ids, conditions)
        if task is not None:
            return task
        busy += page_busy
        tried += ids
        if len(ids) < CANDIDATE_PAGE:
            break
    return _claim_waiting(session, busy, conditions)


def _random_claimable(
    session: Session, project_id: int, conditions: Sequence[ColumnElement[bool]]
) -> Task | None:
    """A random task among `RANDOM_SAMPLE_SIZE` open ones after a random id in the project.

    ORDER BY random() would read every open task; a random starting id keeps it one index
    range scan, wrapping around to the start when the end is near.
    """
    low = session.scalar(select(func.min(Task.id)).where(Task.project_id == project_id))
    high = session.scalar(select(func.max(Task.id)).where(Task.project_id == project_id))
    if low is None or high is None:
        return None
    tried: list[int] = []
    busy: list[int] = []
    for _ in range(MAX_ROUNDS):
        pivot = random.randint(low, high)  # noqa: S311 - sampling, not security
        extra = [Task.id.not_in(tried)] if tried else []
        ids = list(
            session.scalars(
                select(Task.id)
                .where(*conditions, *extra, Task.id >= pivot)
                .order_by(Task.id)
                .limit(RANDOM_SAMPLE_SIZE)
            )
        )
        if len(ids) < RANDOM_SAMPLE_SIZE:
            ids += session.scalars(
                select(Task.id)
                .where(*conditions, *extra, Task.id < pivot)
                .order_by(Task.id)
                .limit(RANDOM_SAMPLE_SIZE - len(ids))
            )
        if not ids:
            break
        random.shuffle(ids)
        task, page_busy = _claim_first(session, ids, conditions)
        if task is not None:
            return task
        busy += page_busy
        tried += ids
    return _claim_waiting(session, busy, conditions)


def _held_task(
    session: Session, *, project: ProjectInfo, user_id: int, now: datetime, scope: Scope
) -> tuple[Task, TaskLock] | None:
    """A task the user still holds and has not finished, skipped or postponed."""
    row = session.execute(
        select(Task, TaskLock)
        .join(TaskLock, TaskLock.task_id == Task.id)
        .where(
            TaskLock.user_id == user_id,
            TaskLock.project_id == project.id,
            TaskLock.expires_at > now,
            Task.project_id == project.id,
            Task.is_labeled == false(),
            ~_done_by(user_id),
            ~_postponed_by(user_id),
            *_assigned_to(project, user_id),
            *scope.conditions,
        )
        .order_by(TaskLock.expires_at, Task.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    return row[0], row[1]


def next_task(
    session: Session,
    *,
    project: ProjectInfo,
    user_id: int,
    scope: Scope,
    ttl_seconds: int,
) -> Picked | None:
    """The task the user should label next, locked for them; None when nothing is left.

    The queues are tried in Label Studio's order: the task the user already holds, then
    fresh tasks (breadth first when several annotators share a task, then by the project's
    sampling), then the user's skipped tasks (REQUEUE_FOR_ME), then their postponed ones.
    """
    now = utcnow()
    # Only the user's own expired locks: other users' go when their task is taken, so
    # concurrent callers never wait on (or deadlock over) each other's deletes.
    session.execute(
        delete(TaskLock).where(
            TaskLock.project_id == project.id,
            TaskLock.user_id == user_id,
            TaskLock.expires_at <= now,
        )
    )
    held = _held_task(session, project=project, user_id=user_id, now=now, scope=scope)
    if held is not None:
        held_task, held_lock = held
        held_lock.expires_at = now + timedelta(seconds=ttl_seconds)
        session.flush()
        return Picked(task=held_task, queue=TASK_LOCK, lock=held_lock)
    open_ = _open_to(project, user_id, now, scope)
    task, queue = _rejected_task(session, project=project, user_id=user_id, open_=open_), REJECTED
    if task is None:
        task, queue = _fresh_task(
            session, project=project, user_id=user_id, open_=open_, scope=scope
        )
    if task is None and project.skip_queue == "REQUEUE_FOR_ME":
        task, queue = _skipped_task(session, project=project, user_id=user_id, open_=open_), SKIPPED
    if task is None:
        task = _postponed_task(session, project=project, user_id=user_id, open_=open_)
        queue = POSTPONED
    if task is None:
        return None
    lock = _hold(session, task=task, user_id=user_id, now=now, ttl_seconds=ttl_seconds)
    return Picked(task=task, queue=queue, lock=lock)


def _fresh_task(
    session: Session,
    *,
    project: ProjectInfo,
    user_id: int,
    open_: list[ColumnElement[bool]],
    scope: Scope,
) -> tuple[Task | None, str]:
    """A task the user neither finished, skipped nor postponed, and the queue it came from."""
    fresh = [*open_, ~_done_by(user_id), ~_postponed_by(user_id)]
    if project.maximum_annotations > 1:
        started = [
            *fresh,
            Task.total_annotations > 0,
            Task.total_annotations < project.maximum_annotations,
        ]
        task = _first_claimable(session, started, [Task.total_annotations.desc(), Task.id.asc()])
        if task is not None:
            return task, BREADTH_FIRST
    if project.sampling == UNIFORM_SAMPLING:
        return _random_claimable(session, project.id, fresh), UNIFORM
    if project.sampling == UNCERTAINTY_SAMPLING:
        score = _uncertainty_score(project)
        scored = [*fresh, score.is_not(None)]
        task = _first_claimable(session, scored, [score.asc(), Task.id.asc()])
        if task is None:
            task = _random_claimable(session, project.id, fresh)
        return task, UNCERTAINTY
    ordering = scope.ordering or [Task.id.asc()]
    return _first_claimable(session, fresh, ordering), SEQUENCE


def _uncertainty_score(project: ProjectInfo) -> Any:
    """What active learning orders by: the task's lowest prediction score of the project's
    current model version (ml-gateway re-predicts when a backend's version changes), or,
    when the project names no version, the task's score over all its predictions. A score
    of an older model says nothing about the current one, so those tasks wait their turn
    with the unscored ones (random)."""
    if not project.model_version:
        return Task.predictions_score
    return (
        select(func.min(Prediction.score))
        .where(
            Prediction.task_id == Task.id,
            Prediction.model_version == project.model_version,
            Prediction.score.is_not(None),
        )
        .correlate(Task)
        .scalar_subquery()
    )


def _rejected_task(
    session: Session, *, project: ProjectInfo, user_id: int, open_: list[ColumnElement[bool]]
) -> Task | None:
    """A task a reviewer sent back to the user (their annotation of it was rejected and
    they have not redone it), driven from their annotations (by index)."""
    rejected_ids = select(Annotation.task_id).where(
        Annotation.project_id == project.id,
        Annotation.completed_by_id == user_id,
        Annotation.review_status == counts.REJECTED,
    )
    return _first_claimable(
        session,
        [*open_, ~_done_by(user_id), ~_postponed_by(user_id)],
        [Task.id.asc()],
        base=select(Task.id).where(Task.id.in_(rejected_ids)),
    )


def _skipped_task(
    session: Session, *, project: ProjectInfo, user_id: int, open_: list[ColumnElement[bool]]
) -> Task | None:
    """A task the user skipped, driven from their skips (by index), not by probing every
    open task."""
    skipped_ids = select(Annotation.task_id).where(
        Annotation.project_id == project.id,
        Annotation.completed_by_id == user_id,
        Annotation.was_cancelled,
    )
    return _first_claimable(
        session,
        [*open_, ~_done_by(user_id, skipped=False), ~_postponed_by(user_id)],
        [Task.id.asc()],
        base=select(Task.id).where(Task.id.in_(skipped_ids)),
    )


def _postponed_task(
    session: Session, *, project: ProjectInfo, user_id: int, open_: list[ColumnElement[bool]]
) -> Task | None:
    """The task the user postponed first."""
    postponed_first = (
        select(func.min(Draft.updated_at))
        .where(Draft.task_id == Task.id, Draft.user_id == user_id, Draft.was_postponed)
        .scalar_subquery()
    )
    base = select(Task.id).where(
        Task.id.in_(
            select(Draft.task_id).where(
                Draft.project_id == project.id,
                Draft.user_id == user_id,
                Draft.was_postponed,
            )
        )
    )
    return _first_claimable(
        session,
        [*open_, ~_done_by(user_id)],
        [postponed_first.asc(), Task.id.asc()],
        base=base,
    )


def rejected_annotations(session: Session, *, task_id: int, user_id: int) -> list[Annotation]:
    """The user's annotations of the task whose newest review rejected them: what the
    labeling page shows them again, with the reviewer's reason."""
    return list(
        session.scalars(
            select(Annotation)
            .where(
                Annotation.task_id == task_id,
                Annotation.completed_by_id == user_id,
                Annotation.review_status == counts.REJECTED,
            )
            .order_by(Annotation.id)
        )
    )

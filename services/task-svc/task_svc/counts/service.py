"""Project counters and the tasks version (writers update both in the transaction of the change).

A project's tasks version is raised by every committed write to its tasks, their
annotations or their predictions: `bump` (any counter change, even by zero), `touch`
(writes that change no counter, such as a task's data) and, as a safety net, any ORM
flush of such rows (`_touch_flushed_projects`). Readers cache what they compute from the
tasks under that number (`datamanager.service.selection_totals`), so a cached value is
never stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labelops_common.db import utcnow
from sqlalchemy import bindparam, delete, event, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from task_svc.counts.models import ProjectCounters

COUNTER_FIELDS: tuple[str, ...] = (
    "task_number",
    "finished_task_number",
    "total_annotations_number",
    "skipped_annotations_number",
    "ground_truth_number",
    "useful_annotation_number",
    "num_tasks_with_annotations",
    "total_predictions_number",
)


def get_project_counts(
    session: Session, *, project_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Counters per project; a project with no row yet has every counter at zero."""
    counts = {project_id: dict.fromkeys(COUNTER_FIELDS, 0) for project_id in project_ids}
    if not project_ids:
        return counts
    write_pending_counters(session)
    rows = session.scalars(
        select(ProjectCounters).where(ProjectCounters.project_id.in_(list(project_ids)))
    )
    for row in rows:
        counts[row.project_id] = {name: getattr(row, name) for name in COUNTER_FIELDS}
    return counts


def forget_project(session: Session, *, project_id: int) -> int:
    """Drop a deleted project's counters; returns how many rows went."""
    session.info.get(_PENDING, {}).pop(project_id, None)
    result = session.execute(
        delete(ProjectCounters).where(ProjectCounters.project_id == project_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _ensure_row(session: Session, project_id: int) -> None:
    """Create the project's counters row if missing.

    Its tasks version starts at the clock in microseconds, not 0: if the project was
    deleted (its row with it) and its id is handed out again (say, a restored project database), the new row's
    versions start above every version the old one reached (it would need more writes
    than microseconds passed), so nothing cached for the old project is read as the new's.
    """
    now = utcnow()
    session.execute(
        postgresql_insert(ProjectCounters)
        .values(project_id=project_id, updated_at=now, tasks_version=int(now.timestamp() * 1e6))
        .on_conflict_do_nothing(index_elements=["project_id"])
    )


def reserve_inner_ids(session: Session, *, project_id: int, count: int) -> int:
    """Reserve `count` consecutive `inner_id`s; returns the first.

    The UPDATE takes the counters row's lock until commit, so concurrent imports into one
    project get disjoint ranges instead of colliding on the unique index.
    """
    _ensure_row(session, project_id)
    last = session.execute(
        update(ProjectCounters)
        .where(ProjectCounters.project_id == project_id)
        .values(last_inner_id=ProjectCounters.last_inner_id + count)
        .returning(ProjectCounters.last_inner_id)
    ).scalar_one()
    return int(last) - count + 1


def bump(session: Session, *, project_id: int, **deltas: int) -> None:
    """Add `deltas` to the project's counters in the caller's transaction.

    The deltas are summed in the session and written by one UPDATE just before the commit
    (or before any read of the counters in this session). Every annotator of a project
    writes the same counters row, so its lock is held only for that last statement
    rather than for the whole transaction. Every call raises the project's tasks version,
    even when all deltas are zero (the task's other columns changed).
    """
    changes = {name: delta for name, delta in deltas.items() if delta}
    unknown = set(changes) - set(COUNTER_FIELDS)
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    totals = _pending(session).setdefault(project_id, {})
    for name, delta in changes.items():
        totals[name] = totals.get(name, 0) + delta


def touch(session: Session, *, project_id: int) -> None:
    """Raise the project's tasks version at commit: its tasks changed without a counter
    changing (a task's data or meta, a Core UPDATE of task columns)."""
    _pending(session).setdefault(project_id, {})


def tasks_version(session: Session, *, project_id: int) -> int | None:
    """The project's tasks version as committed, or None while this session's own
    transaction has changed the project's tasks: what it reads then may never commit,
    so it must not be cached under any version."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    if project_id in session.info.get(_PENDING, {}) or project_id in session.info.get(_WRITTEN, ()):
        return None
    version = session.scalar(
        select(ProjectCounters.tasks_version).where(ProjectCounters.project_id == project_id)
    )
    return int(version or 0)


_PENDING = "labelops_pending_counter_deltas"
#: Projects whose counters row the session's open transaction has updated.
_WRITTEN = "labelops_counters_written"
#: Tables whose rows, written through the ORM, raise their project's tasks version.
_VERSIONED_TABLES = frozenset({"tasks", "annotations", "predictions"})


def _add_deltas_statement() -> Any:
    """Every counter plus its delta (zeros too), the version plus one: built once, so each
    commit runs one cached statement rather than building and compiling a new one."""
    column = ProjectCounters.__table__.c
    values: dict[str, Any] = {name: column[name] + bindparam(name) for name in COUNTER_FIELDS}
    values |= {
        "tasks_version": column.tasks_version + 1,
        "updated_at": bindparam("counters_now"),
    }
    table: Any = ProjectCounters.__table__
    return update(table).where(column.project_id == bindparam("counters_project_id")).values(values)


_ADD_DELTAS = _add_deltas_statement()


def _pending(session: Session) -> dict[int, dict[str, int]]:
    pending: dict[int, dict[str, int]] = session.info.setdefault(_PENDING, {})
    return pending


def write_pending_counters(session: Session) -> None:
    """Apply the deltas `bump` collected and raise each touched project's tasks version,
    in project order so writers never deadlock. Runs before every commit."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # so the rows it writes touch their projects now, not after this
    pending: dict[int, dict[str, int]] = session.info.pop(_PENDING, {})
    if not pending:
        return
    written: set[int] = session.info.setdefault(_WRITTEN, set())
    now = utcnow()
    for project_id in sorted(pending):
        deltas = pending[project_id]
        params: dict[str, Any] = {name: deltas.get(name, 0) for name in COUNTER_FIELDS}
        params |= {"counters_project_id": project_id, "counters_now": now}
        # The row exists after a project's first write, so try the UPDATE alone first.
        if getattr(session.execute(_ADD_DELTAS, params), "rowcount", 0) == 0:
            _ensure_row(session, project_id)
            session.execute(_ADD_DELTAS, params)
        written.add(project_id)


# Session-wide listeners: every session of the process gets them (other services' sessions
# never hold versioned rows or pending deltas, so for them these do nothing).


@event.listens_for(Session, "before_flush")
def _touch_flushed_projects(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    """Touch the project of each task, annotation or prediction the flush writes, so an
    ORM writer cannot forget the version. (Core UPDATE/DELETE statements are not seen
    here; their callers `bump` or `touch`.)"""
    for instance in (*session.new, *session.dirty, *session.deleted):
        if getattr(instance, "__tablename__", None) not in _VERSIONED_TABLES:
            continue
        if instance in session.dirty and not session.is_modified(instance):
            continue
        history = inspect(instance).attrs.project_id.history
        for project_id in (*history.added, *history.unchanged, *history.deleted):
            if project_id is not None:
                touch(session, project_id=project_id)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    write_pending_counters(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_written(session: Session, transaction: SessionTransaction) -> None:
    """Once the outermost transaction ends (a savepoint's end commits nothing yet)."""
    if transaction.parent is None:
        session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "after_rollback")
def _drop_pending_counters(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_WRITTEN, None)

"""Reading project counters (writers update them in the same transaction as the change)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labelops_common.db import utcnow
from sqlalchemy import delete, event, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

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
    dialect = session.get_bind().dialect.name
    insert_fn = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert_fn(ProjectCounters)
        .values(project_id=project_id, updated_at=utcnow())
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
    rather than for the whole transaction.
    """
    changes = {name: delta for name, delta in deltas.items() if delta}
    unknown = set(changes) - set(COUNTER_FIELDS)
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    if not changes:
        return
    pending: dict[int, dict[str, int]] = session.info.setdefault(_PENDING, {})
    totals = pending.setdefault(project_id, {})
    for name, delta in changes.items():
        totals[name] = totals.get(name, 0) + delta
    if not event.contains(session, "before_commit", write_pending_counters):
        event.listen(session, "before_commit", write_pending_counters)
        event.listen(session, "after_rollback", _drop_pending_counters)


_PENDING = "labelops_pending_counter_deltas"


def write_pending_counters(session: Session) -> None:
    """Apply the deltas `bump` collected (in project order, so writers never deadlock)."""
    pending: dict[int, dict[str, int]] = session.info.pop(_PENDING, {})
    column = ProjectCounters.__table__.c
    for project_id in sorted(pending):
        changes = {name: delta for name, delta in pending[project_id].items() if delta}
        if not changes:
            continue
        values: dict[str, Any] = {name: column[name] + delta for name, delta in changes.items()}
        values["updated_at"] = utcnow()
        statement = (
            update(ProjectCounters)
            .where(ProjectCounters.project_id == project_id)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        # The row exists after a project's first write, so try the UPDATE alone first.
        if getattr(session.execute(statement), "rowcount", 0) == 0:
            _ensure_row(session, project_id)
            session.execute(statement)


def _drop_pending_counters(session: Session) -> None:
    session.info.pop(_PENDING, None)

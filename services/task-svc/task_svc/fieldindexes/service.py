"""Data-field indexes: definitions, their builds, their upkeep on bulk writes,
and the index-only queries the data-manager list runs on them.

Exactness rests on one lock per project (`sql.LOCK_CLASS`, project id): every writer of
tasks takes it shared before it reads the project's definitions (the triggers on
`tasks`, and `begin_bulk_task_writes` for the COPY path) and keeps the entries of building
definitions too. A build waits until it can take the lock exclusively and lets it go at
once: the writers that may have read the definitions before this one existed have
finished, so the copy sees their tasks, and every later writer keeps its own tasks'
entries (the copy leaves a row a writer wrote alone). So task writes go on while a
million-task project builds; only an edit of `data` whose entry the copy has already
written waits for the copy's commit. A task deleted during the copy may keep its copied
entry: after the copy commits, the build waits for the writers once more and drops the
entries of tasks that are gone. Removing definitions takes the lock exclusively and
skips one whose copy is running. Nothing here blocks annotation writes: they never
change `tasks.data`.

Functions take the session; callers commit, except where a docstring says otherwise.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from labelops_common.db import utcnow
from sqlalchemy import ColumnElement, delete, func, not_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from task_svc.counts import service as counts
from task_svc.fieldindexes import sql
from task_svc.fieldindexes.models import BUILDING, FAILED, READY, DataFieldEntry, DataFieldIndex
from task_svc.fieldindexes.schemas import DataFieldShape

logger = logging.getLogger(__name__)

#: Definitions one project keeps; creating one more drops the least recently used.
MAX_PER_PROJECT = 8
#: `last_used_at` is written at most this often per definition.
TOUCH_EVERY = timedelta(minutes=1)
#: A definition not ready this long after its build was queued gets queued again.
RETRY_BUILD_AFTER = timedelta(minutes=30)
#: How long a build waits for the project's writers before it queues for the lock.
BUILD_LOCK_PATIENCE_SECONDS = 600.0


# --------------------------------------------------------------------------------------
# Definitions
# --------------------------------------------------------------------------------------


def find_definition(
    session: Session, *, project_id: int, shape: DataFieldShape
) -> DataFieldIndex | None:
    return session.scalar(
        select(DataFieldIndex).where(
            DataFieldIndex.project_id == project_id,
            DataFieldIndex.filter_key == shape.filter_key,
            DataFieldIndex.order_key == shape.order_key,
        )
    )


def request_definition(session: Session, *, project_id: int, shape: DataFieldShape) -> int | None:
    """Make sure the shape's definition exists; a new one is built once `session` commits.

    Returns the new definition's id, or None when it existed (or the project is full and
    busy, see `_make_room`).
    """
    if find_definition(session, project_id=project_id, shape=shape) is not None:
        return None
    if not _make_room(session, project_id=project_id):
        return None
    now = utcnow()
    created = session.scalar(
        pg_insert(DataFieldIndex)
        .values(
            project_id=project_id,
            filter_key=shape.filter_key,
            order_key=shape.order_key,
            state=BUILDING,
            created_at=now,
            requested_at=now,
            last_used_at=now,
        )
        .on_conflict_do_nothing(index_elements=["project_id", "filter_key", "order_key"])
        .returning(DataFieldIndex.id)
    )
    if created is None:
        return None
    _queue_build(session, int(created))
    return int(created)


def _queue_build(session: Session, index_id: int) -> None:
    from task_svc.fieldindexes import jobs  # jobs imports this module

    jobs.build_data_field_index.enqueue_after_commit(session, index_id)


def _make_room(session: Session, *, project_id: int) -> bool:
    """Drop least recently used definitions beyond the cap; False if the lock is busy.

    Dropping takes the project's lock exclusively (a writer between reading a definition
    and inserting its entry would otherwise hit a missing foreign key), but only if it
    is free now: a list request must not wait behind a long import.
    """
    ids = list(
        session.scalars(
            select(DataFieldIndex.id)
            .where(DataFieldIndex.project_id == project_id)
            .order_by(DataFieldIndex.last_used_at.desc(), DataFieldIndex.id.desc())
        )
    )
    surplus = ids[MAX_PER_PROJECT - 1 :]
    if not surplus:
        return True
    dropped = _remove_unless_busy(session, project_id, DataFieldIndex.id.in_(surplus))
    return dropped == len(surplus)


def delete_project_definitions(session: Session, *, project_id: int) -> int:
    """Forget a project's definitions (their entries cascade) when its tasks all go.

    Only if the project's lock is free now: waiting for it here (after the counters row
    is locked) could deadlock with a writer that holds it shared and waits for that row.
    Kept definitions stay exact (the delete trigger removes the entries) and cost
    nothing without tasks; the next deletion, or the cap, removes them.
    """
    return _remove_unless_busy(session, project_id, DataFieldIndex.project_id == project_id)


def _remove_unless_busy(session: Session, project_id: int, condition: ColumnElement[bool]) -> int:
    """Delete the project's definitions meeting `condition`; how many went (0 if the
    project's lock is taken now). One whose build is copying (`copy_entries` holds its
    row) is skipped: deleting it would wait for the copy, holding the project's lock."""
    if not session.scalar(text(sql.TRY_LOCK), {"project_id": project_id}):
        return 0
    removable = list(
        session.scalars(
            select(DataFieldIndex.id).where(condition).with_for_update(skip_locked=True)
        )
    )
    session.execute(delete(DataFieldIndex).where(DataFieldIndex.id.in_(removable)))
    return len(removable)


@dataclass(frozen=True)
class DefinitionRow:
    id: int
    filter_key: str | None
    order_key: str | None
    state: str
    created_at: datetime
    built_at: datetime | None
    last_used_at: datetime
    entries: int | None


def list_definitions(session: Session, *, project_id: int) -> list[DefinitionRow]:
    """The project's definitions; `entries` is counted for ready ones only (counting a
    building one would wade through the build's uncommitted rows while it runs)."""
    definitions = session.scalars(
        select(DataFieldIndex)
        .where(DataFieldIndex.project_id == project_id)
        .order_by(DataFieldIndex.id)
    ).all()
    rows = []
    for definition in definitions:
        entries = None
        if definition.state == READY:
            entries = session.scalar(
                select(func.count())
                .select_from(DataFieldEntry)
                .where(DataFieldEntry.index_id == definition.id)
            )
        rows.append(
            DefinitionRow(
                id=definition.id,
                filter_key=definition.filter_key or None,
                order_key=definition.order_key or None,
                state=definition.state,
                created_at=definition.created_at,
                built_at=definition.built_at,
                last_used_at=definition.last_used_at,
                entries=None if entries is None else int(entries),
            )
        )
    return rows


# --------------------------------------------------------------------------------------
# Query path
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsableIndex:
    """A ready definition with only exact entries, and the filter text a query compares."""

    index_id: int
    filter_text: str | None
    descending: bool


def index_for_list(
    session: Session, *, project_id: int, shape: DataFieldShape | None, min_tasks: int | None
) -> UsableIndex | None:
    """The definition a list query may use, if one is ready and exact.

    Without one, and with at least `min_tasks` tasks in the project, a definition is
    created and its build queued, in a short transaction of its own (the list itself
    only reads, and the build must find the definition committed). Meanwhile, and
    whenever an entry is inexact, the query takes the plain path.
    """
    if shape is None:
        return None
    definition = find_definition(session, project_id=project_id, shape=shape)
    if definition is None:
        if min_tasks is not None and _task_number(session, project_id) >= min_tasks:
            with Session(session.get_bind()) as own:
                if request_definition(own, project_id=project_id, shape=shape) is not None:
                    own.commit()
        return None
    if utcnow() - definition.last_used_at >= TOUCH_EVERY:
        with Session(session.get_bind()) as own:
            own.execute(
                update(DataFieldIndex)
                .where(DataFieldIndex.id == definition.id)
                .values(last_used_at=utcnow())
            )
            own.commit()
    if definition.state != READY:
        _request_again_if_stale(session, definition)
        return None
    inexact = session.scalar(  # `NOT is_exact`: the partial index's own predicate
        select(DataFieldEntry.task_id)
        .where(DataFieldEntry.index_id == definition.id, not_(DataFieldEntry.is_exact))
        .limit(1)
    )
    if inexact is not None:
        return None
    return UsableIndex(
        index_id=definition.id,
        filter_text=shape.filter_text if shape.filter_key else None,
        descending=shape.descending,
    )


def _request_again_if_stale(session: Session, definition: DataFieldIndex) -> None:
    """Queue the build again when it has not become ready `RETRY_BUILD_AFTER` after it was
    last queued: its message or its worker was lost, or it failed. One request wins the
    conditional UPDATE; a build that runs twice finds the definition ready and skips."""
    now = utcnow()
    if now - definition.requested_at < RETRY_BUILD_AFTER:
        return
    with Session(session.get_bind()) as own:
        claimed = own.execute(
            update(DataFieldIndex)
            .where(
                DataFieldIndex.id == definition.id,
                DataFieldIndex.state == definition.state,
                DataFieldIndex.requested_at == definition.requested_at,
            )
            .values(state=BUILDING, requested_at=now)
        )
        if getattr(claimed, "rowcount", 0):
            _queue_build(own, definition.id)
            logger.warning(
                "data-field index not ready; its build is queued again",
                extra={"index_id": definition.id, "state": definition.state},
            )
        own.commit()


def _task_number(session: Session, project_id: int) -> int:
    row = counts.get_project_counts(session, project_ids=[project_id])[project_id]
    return int(row["task_number"])


def page_task_ids(
    session: Session, index: UsableIndex, *, offset: int, limit: int
) -> list[int] | None:
    """One page of task ids in the selection's order, read from the covering index alone;
    None if an entry has turned inexact since `index_for_list` (take the plain path)."""
    statement = sql.page_statement(filtered=index.filter_text is not None, desc=index.descending)
    params: dict[str, Any] = {"index_id": index.index_id, "offset": offset, "limit": limit}
    if index.filter_text is not None:
        params["filter_text"] = index.filter_text
    rows = session.execute(text(statement), params).all()
    if not rows[0].exact:
        return None
    return [int(row.task_id) for row in rows if row.task_id is not None]


def count_entries(session: Session, index: UsableIndex) -> int | None:
    """How many tasks the shape selects (an index-only count on the narrow count index);
    None if an entry has turned inexact."""
    filtered = index.filter_text is not None
    count, exact = session.execute(
        text(sql.count_statement(filtered=filtered)),
        {"index_id": index.index_id, "filter_text": index.filter_text},
    ).one()
    return int(count) if exact else None


# --------------------------------------------------------------------------------------
# Builds
# --------------------------------------------------------------------------------------


def build_definition(session: Session, *, index_id: int) -> str:
    """Copy every task of the project into the definition's entries ("built"); it stays
    building, with its triggers keeping the entries exact, until `mark_ready`.

    The project's task writes go on meanwhile: the lock is taken only to wait for the
    writers that may have read the definitions before this one existed (they would miss
    it), never held over the copy. Writers after that maintain this definition's entries
    themselves, and the copy keeps theirs (a conflict means a newer row). A task deleted
    while the copy ran can leave a copied entry behind; those go once the copy commits.

    Commits. Idempotent: a definition that is gone or no longer building is skipped, and
    rows already written (by triggers, or a build that died) are kept.
    """
    definition = session.get(DataFieldIndex, index_id)
    if definition is None or definition.state != BUILDING:
        return "skipped"
    project_id = definition.project_id
    session.commit()  # nothing may be read before the lock, so the snapshot starts after it
    let_writers_finish(session, project_id=project_id)
    if not copy_entries(session, index_id=index_id):
        session.rollback()
        return "skipped"
    _commit_durably(session)
    let_writers_finish(session, project_id=project_id)
    drop_entries_of_deleted_tasks(session, index_id=index_id, project_id=project_id)
    _commit_durably(session)
    return "built"


def _commit_durably(session: Session) -> None:
    """The VACUUM that follows a build marks pages all-visible (what makes the scans
    index-only) only once the commits that wrote them are flushed: wait for the WAL
    flush, whatever synchronous_commit says."""
    session.execute(text("SET LOCAL synchronous_commit TO on"))
    session.commit()


def let_writers_finish(session: Session, *, project_id: int) -> None:
    """Wait until no transaction holds the project's lock, then let it go at once: every
    writer from here on reads the definitions (so sees a building one) after this."""
    _wait_for_writers(session, project_id=project_id)
    session.commit()


def copy_entries(session: Session, *, index_id: int) -> bool:
    """Write the entries of every task the statement sees (the caller commits); False if
    the definition is gone or no longer building.

    The definition row is held FOR KEY SHARE (as the entries' foreign key would hold it):
    removing definitions skips it instead of waiting for the copy.
    """
    state = session.scalar(
        select(DataFieldIndex.state)
        .where(DataFieldIndex.id == index_id)
        .with_for_update(read=True, key_share=True)
    )
    if state != BUILDING:
        return False
    session.execute(text(sql.BUILD), {"index_id": index_id})
    return True


def drop_entries_of_deleted_tasks(session: Session, *, index_id: int, project_id: int) -> int:
    """Delete the definition's entries whose task is gone (the caller commits).

    A delete's trigger finds no entry the copy has not committed yet, so a task deleted
    while the copy ran may keep one. Run after `let_writers_finish` that follows the copy's
    commit: every such delete is committed by then, and later ones see the entries.
    The fresh entries have no statistics yet, and the planner's nested loop of one probe
    per entry took 4.6 s at 1M tasks; hashing the project's task ids took 1.1 s. (The
    planner settings are LOCAL: the caller's commit ends them.)
    """
    session.execute(text("SET LOCAL enable_nestloop = off"))
    session.execute(text("SET LOCAL work_mem = '64MB'"))
    result = session.execute(
        text(sql.DROP_ENTRIES_OF_DELETED_TASKS), {"index_id": index_id, "project_id": project_id}
    )
    return int(getattr(result, "rowcount", 0) or 0)


def mark_ready(session: Session, *, index_id: int) -> str:
    """Let list queries use a built definition. Commits; "skipped" if it is gone or was
    marked failed meanwhile."""
    definition = session.get(DataFieldIndex, index_id)
    if definition is None or definition.state != BUILDING:
        session.rollback()
        return "skipped"
    definition.state = READY
    definition.built_at = utcnow()
    session.commit()
    return "ready"


def _wait_for_writers(session: Session, *, project_id: int) -> None:
    """Take the project's lock exclusively.

    Polling first: a waiting exclusive request would queue every new writer of the
    project behind it (PostgreSQL grants locks in order), stalling task edits for as
    long as an import runs. After `BUILD_LOCK_PATIENCE_SECONDS`, queue like anyone.
    """
    deadline = time.monotonic() + BUILD_LOCK_PATIENCE_SECONDS
    delay = 0.05
    while time.monotonic() < deadline:
        if session.scalar(text(sql.TRY_LOCK), {"project_id": project_id}):
            return
        time.sleep(delay)
        delay = min(delay * 2, 2.0)
    session.execute(text(sql.LOCK), {"project_id": project_id})


def mark_failed(session: Session, *, index_id: int) -> None:
    session.execute(
        update(DataFieldIndex)
        .where(DataFieldIndex.id == index_id, DataFieldIndex.state == BUILDING)
        .values(state=FAILED)
    )


# --------------------------------------------------------------------------------------
# Bulk writes (the COPY path of `imports.writer.write_tasks`)
# --------------------------------------------------------------------------------------


def begin_bulk_task_writes(session: Session, project_id: int) -> None:
    """Before COPYing tasks: silence the row triggers for this transaction and hold the
    project's lock shared (as a trigger would), so a build waits for this import."""
    session.execute(text("SET LOCAL labelops.bulk_task_writes = 'on'"))
    session.execute(text(sql.LOCK_SHARED), {"project_id": project_id})


def finish_bulk_task_writes(
    session: Session, project_id: int, first_task_id: int | None, last_task_id: int | None
) -> None:
    """After the last COPY: the entries of the new tasks in one statement per call, then
    the triggers work again for the rest of the transaction."""
    if first_task_id is not None and last_task_id is not None:
        session.execute(
            text(sql.BULK),
            {"project_id": project_id, "first_id": first_task_id, "last_id": last_task_id},
        )
    session.execute(text("SET LOCAL labelops.bulk_task_writes = 'off'"))

"""The state catalogue and the writing of state rows: what every writer of tasks,
annotations and project counters calls, in the transaction of its change.

Label Studio's names (its `fsm` app): tasks and projects go CREATED → IN_PROGRESS →
COMPLETED, annotations are CREATED when submitted and stay so when updated. A deleted
annotation gets a last row, DELETED, so its history says where it went. A task's and a
project's state follow their counters (`task_state`, `project_state`); the state last
recorded is kept beside those counters (`tasks.fsm_state`, `project_counters.fsm_state`)
so a writer compares without reading any row of this table. A task or project written
before this existed (or by a bulk import, which records nothing per task) has none
stored: its state is inferred from its counters, as Label Studio does on a cold start.

Writing costs one INSERT per transaction, whatever it changed (`write_pending_records`);
the id is a UUIDv7 made here, so nothing is read back.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from labelops_common.db import utcnow
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from task_svc.fsm.models import StateRecord

TASK = "task"
ANNOTATION = "annotation"
PROJECT = "project"
ENTITIES = (TASK, ANNOTATION, PROJECT)

CREATED = "CREATED"
IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
DELETED = "DELETED"


@dataclass(frozen=True)
class Transition:
    name: str
    target: str
    reason: str
    #: The states a manager may execute it from by name; empty: only writes trigger it.
    manual_from: frozenset[str] = frozenset()


def _catalogue(*transitions: Transition) -> dict[str, Transition]:
    return {transition.name: transition for transition in transitions}


TRANSITIONS: dict[str, dict[str, Transition]] = {
    TASK: _catalogue(
        Transition("task_created", CREATED, "Task created in the system"),
        Transition(
            "task_completed",
            COMPLETED,
            "Task completed",
            manual_from=frozenset({CREATED, IN_PROGRESS}),
        ),
        Transition(
            "task_in_progress",
            IN_PROGRESS,
            "Task moved to in progress",
            manual_from=frozenset({COMPLETED}),
        ),
    ),
    ANNOTATION: _catalogue(
        Transition("annotation_submitted", CREATED, "Annotation created"),
        Transition("annotation_updated", CREATED, "Annotation updated"),
        Transition("annotation_deleted", DELETED, "Annotation deleted"),
    ),
    PROJECT: _catalogue(
        Transition("project_created", CREATED, "Project created"),
        Transition(
            "project_in_progress",
            IN_PROGRESS,
            "Project moved to in progress - first annotation submitted",
            manual_from=frozenset({CREATED}),
        ),
        Transition(
            "project_completed",
            COMPLETED,
            "Project completed - all tasks completed",
            manual_from=frozenset({IN_PROGRESS}),
        ),
        Transition(
            "project_in_progress_from_completed",
            IN_PROGRESS,
            "Project moved back to in progress - task became incomplete",
            manual_from=frozenset({COMPLETED}),
        ),
    ),
}


# ------------------------------------------------------------------------------ derived states


def task_state(*, current: str | None, annotated: bool, labeled: bool) -> str:
    """A task is COMPLETED when labeled, IN_PROGRESS once it has had an annotation (it
    goes back there, not to CREATED, when its annotations are deleted), else CREATED."""
    if labeled:
        return COMPLETED
    if annotated or current in (IN_PROGRESS, COMPLETED):
        return IN_PROGRESS
    return CREATED


def project_state(*, current: str | None, tasks: int, finished: int, annotated: int) -> str:
    """A project is COMPLETED when every one of its tasks is, IN_PROGRESS once a task was
    annotated, else CREATED."""
    if tasks > 0 and finished >= tasks:
        return COMPLETED
    if annotated > 0 or finished > 0 or current in (IN_PROGRESS, COMPLETED):
        return IN_PROGRESS
    return CREATED


def task_transition(new: str) -> Transition:
    name = "task_completed" if new == COMPLETED else "task_in_progress"
    return TRANSITIONS[TASK][name]


def project_transition(previous: str, new: str) -> Transition:
    if new == COMPLETED:
        return TRANSITIONS[PROJECT]["project_completed"]
    if previous == COMPLETED:
        return TRANSITIONS[PROJECT]["project_in_progress_from_completed"]
    return TRANSITIONS[PROJECT]["project_in_progress"]


# ------------------------------------------------------------------------------ writing rows

_uuid_lock = threading.Lock()
_uuid_last = 0


def uuid7() -> uuid.UUID:
    """RFC 9562's UUIDv7, monotonic within the process: the 12 bits after the millisecond
    count a sequence, so two rows of one transaction (an annotation's, then its task's)
    sort in the order they were written."""
    global _uuid_last
    with _uuid_lock:
        stamp = max((time.time_ns() // 1_000_000) << 12, _uuid_last + 1)
        _uuid_last = stamp
    random_bits = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = ((stamp >> 12) << 80) | (0x7 << 76) | ((stamp & 0xFFF) << 64) | (0b10 << 62)
    return uuid.UUID(int=value | random_bits)


_COLUMNS = (
    "id", "entity_name", "entity_id", "project_id", "state", "previous_state",
    "transition_name", "triggered_by_id", "reason", "context_data", "created_at",
)  # fmt: skip
#: Constants only (the table's own names); the values go as parameters.
_INSERT_SQL = f"INSERT INTO {StateRecord.__tablename__} ({', '.join(_COLUMNS)}) VALUES "  # noqa: S608
_ROW_SQL = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
#: Rows per INSERT (11 parameters each, well under PostgreSQL's 65,535).
WRITE_BATCH = 1000
#: State rows recorded in the open transaction, not yet written.
_PENDING = "labelops_fsm_pending_records"
#: The user whose change this transaction records: a project's state, which changes at
#: commit with its counters, is attributed to them.
_ACTOR = "labelops_fsm_actor"


def state_row(
    *,
    entity_name: str,
    entity_id: int,
    project_id: int,
    transition: Transition,
    previous_state: str | None,
    triggered_by: int | None,
    context: dict[str, Any] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """One state row's values, for `record` or `record_many`."""
    return {
        "id": uuid7(),
        "entity_name": entity_name,
        "entity_id": entity_id,
        "project_id": project_id,
        "state": transition.target,
        "previous_state": previous_state,
        "transition_name": transition.name,
        "triggered_by_id": triggered_by,
        "reason": reason or transition.reason,
        "context_data": context or {},
        "created_at": utcnow(),
    }


def record(session: Session, **fields: Any) -> dict[str, Any]:
    """Add one state row to the transaction (`state_row` names the fields); returns its
    values. The rows of a transaction are written together, by `write_pending_records`
    just before the commit: an annotation and the task state it changes cost one INSERT."""
    row = state_row(**fields)
    # Begin the transaction (if nothing has yet) so its rollback drops the row.
    session.connection()
    session.info.setdefault(_PENDING, []).append(row)
    if row["triggered_by_id"] is not None:
        session.info[_ACTOR] = row["triggered_by_id"]
    return row


def record_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Add many `state_row`s (a bulk action's tasks). Past `WRITE_BATCH` waiting rows they
    are written at once, so an action over a million tasks never holds them all."""
    if not rows:
        return
    session.connection()
    pending = session.info.setdefault(_PENDING, [])
    pending.extend(rows)
    if len(pending) >= WRITE_BATCH:
        write_pending_records(session)


def write_pending_records(session: Session) -> None:
    """Write the transaction's state rows in one statement. Runs before every commit, after
    the counters (`counts.write_pending_counters`), whose changes may add a project's row."""
    rows: list[dict[str, Any]] = session.info.pop(_PENDING, None) or []
    if not rows:
        return
    # On the session's own psycopg2 connection (so in its transaction): measured on the
    # annotation hot path (A/B, 1,000 creates each), an annotation's rows cost ~0.4 ms of
    # CPU this way against ~0.5-0.8 ms through SQLAlchemy's executemany.
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(rows), WRITE_BATCH):
            batch = rows[start : start + WRITE_BATCH]
            values: list[Any] = []
            for row in batch:
                values.extend(
                    (
                        str(row["id"]),
                        *(row[column] for column in _COLUMNS[1:-2]),
                        json.dumps(row["context_data"]),
                        row["created_at"],
                    )
                )
            cursor.execute(_INSERT_SQL + ", ".join([_ROW_SQL] * len(batch)), values)
    finally:
        cursor.close()


def actor(session: Session) -> int | None:
    """Who triggered this transaction's recorded changes, if any did."""
    found = session.info.get(_ACTOR)
    return int(found) if found is not None else None


@event.listens_for(Session, "after_transaction_end")
def _forget_actor(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_ACTOR, None)
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_rollback")
def _drop_pending_records(session: Session) -> None:
    session.info.pop(_PENDING, None)

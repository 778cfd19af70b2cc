"""The writing side (`fsm.records`): ids that sort as written, rows that go with their
transaction, and the states derived from counts."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from task_svc.fsm import records
from task_svc.fsm.models import StateRecord


def test_ids_are_uuid7_and_sort_in_the_order_they_were_made() -> None:
    made = [records.uuid7() for _ in range(2000)]
    assert {u.version for u in made} == {7}
    assert sorted(made) == made
    assert len(set(made)) == len(made)


def _row(entity_id: int, name: str = "task_created") -> dict[str, Any]:
    return {
        "entity_name": records.TASK,
        "entity_id": entity_id,
        "project_id": entity_id,
        "transition": records.TRANSITIONS[records.TASK][name],
        "previous_state": None,
        "triggered_by": 7,
    }


def test_rows_are_written_at_commit_and_dropped_on_rollback(stack: Any) -> None:
    entity_id = int(records.uuid7().int % 10**12)
    with stack.task_runtime.database.session() as session:
        records.record(session, **_row(entity_id))
        session.rollback()
        assert records.actor(session) is None
        records.record(session, **_row(entity_id, "task_completed"))
        records.record(session, **_row(entity_id, "task_in_progress"))
        session.commit()
    with stack.task_runtime.database.session() as session:
        written = session.scalars(
            select(StateRecord.transition_name)
            .where(StateRecord.entity_name == "task", StateRecord.entity_id == entity_id)
            .order_by(StateRecord.id)
        ).all()
    assert written == ["task_completed", "task_in_progress"]


@pytest.mark.parametrize(
    ("current", "annotated", "labeled", "expected"),
    [
        (None, False, False, "CREATED"),
        ("CREATED", True, False, "IN_PROGRESS"),
        ("CREATED", True, True, "COMPLETED"),
        ("COMPLETED", False, False, "IN_PROGRESS"),  # its annotations deleted
        ("COMPLETED", True, True, "COMPLETED"),
    ],
)
def test_task_state(current: str | None, annotated: bool, labeled: bool, expected: str) -> None:
    assert records.task_state(current=current, annotated=annotated, labeled=labeled) == expected


@pytest.mark.parametrize(
    ("current", "tasks", "finished", "annotated", "expected"),
    [
        (None, 0, 0, 0, "CREATED"),
        (None, 10, 0, 0, "CREATED"),
        ("CREATED", 10, 0, 1, "IN_PROGRESS"),
        ("IN_PROGRESS", 10, 10, 10, "COMPLETED"),
        ("COMPLETED", 11, 10, 10, "IN_PROGRESS"),  # a task added
        ("IN_PROGRESS", 10, 0, 0, "IN_PROGRESS"),  # every annotation deleted
    ],
)
def test_project_state(
    current: str | None, tasks: int, finished: int, annotated: int, expected: str
) -> None:
    found = records.project_state(
        current=current, tasks=tasks, finished=finished, annotated=annotated
    )
    assert found == expected


def test_many_rows_are_written_in_batches_within_the_transaction(
    stack: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(records, "WRITE_BATCH", 7)
    entity_id = int(records.uuid7().int % 10**12)
    rows = [
        records.state_row(
            entity_name=records.TASK,
            entity_id=entity_id,
            project_id=entity_id,
            transition=records.TRANSITIONS[records.TASK]["task_completed"],
            previous_state="CREATED",
            triggered_by=None,
            context={"n": n},
        )
        for n in range(20)
    ]
    with stack.task_runtime.database.session() as session:
        records.record_many(session, rows[:5])
        assert len(session.info[records._PENDING]) == 5
        records.record_many(session, rows[5:])  # past the batch: written now
        assert not session.info.get(records._PENDING)
        session.rollback()
    with stack.task_runtime.database.session() as session:
        query = select(StateRecord.context_data).where(StateRecord.entity_id == entity_id)
        assert session.scalars(query).all() == []
        records.record_many(session, rows)
        session.commit()
        written = session.scalars(query.order_by(StateRecord.id)).all()
    assert written == [{"n": n} for n in range(20)]

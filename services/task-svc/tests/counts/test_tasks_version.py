"""The tasks version: raised by every committed write to a project's tasks, never by reads."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from task_svc.counts import service as counts
from task_svc.tasks.models import Task


@pytest.fixture()
def project(make_project: Any) -> int:
    project_id: int = make_project()
    return project_id


def version(stack: Any, project_id: int) -> int:
    with stack.task_runtime.database.session() as session:
        found = counts.tasks_version(session, project_id=project_id)
        assert found is not None
        return found


def add_task(stack: Any, project_id: int) -> int:
    with stack.task_runtime.database.session() as session:
        task = Task(project_id=project_id, inner_id=1, data={"text": "a"})
        session.add(task)
        session.commit()
        return task.id


def commit_touch(stack: Any, project_id: int) -> None:
    with stack.task_runtime.database.session() as session:
        counts.touch(session, project_id=project_id)
        session.commit()


def test_a_zero_bump_and_a_touch_each_raise_the_version(stack: Any, project: int) -> None:
    commit_touch(stack, project)
    before = version(stack, project)
    with stack.task_runtime.database.session() as session:
        counts.bump(session, project_id=project, total_annotations_number=0)
        session.commit()
    assert version(stack, project) == before + 1
    commit_touch(stack, project)
    assert version(stack, project) == before + 2


def test_a_recreated_row_never_repeats_a_version(stack: Any, project: int) -> None:
    """A deleted project's id may come back (say, in a restored project database)."""
    for _ in range(3):
        commit_touch(stack, project)
    old = version(stack, project)
    with stack.task_runtime.database.session() as session:
        counts.forget_project(session, project_id=project)
        session.commit()
    commit_touch(stack, project)
    assert version(stack, project) > old


def test_an_orm_write_raises_the_version_without_a_call(stack: Any, project: int) -> None:
    task_id = add_task(stack, project)
    after_insert = version(stack, project)
    with stack.task_runtime.database.session() as session:
        task = session.get(Task, task_id)
        assert task is not None
        task.data = {"text": "b"}
        session.commit()  # no flush before: the commit's own flush must still count
    after_update = version(stack, project)
    assert after_update == after_insert + 1
    with stack.task_runtime.database.session() as session:
        task = session.get(Task, task_id)
        task.data = dict(task.data)  # the same value: not a change
        session.commit()
    assert version(stack, project) == after_update


def test_reads_and_rollbacks_leave_the_version(stack: Any, project: int) -> None:
    task_id = add_task(stack, project)
    before = version(stack, project)
    with stack.task_runtime.database.session() as session:
        list(session.scalars(select(Task).where(Task.project_id == project)))
        session.commit()
    with stack.task_runtime.database.session() as session:
        task = session.get(Task, task_id)
        assert task is not None
        task.meta = {"x": 1}
        session.flush()
        counts.bump(session, project_id=project, task_number=1)
        session.rollback()
    assert version(stack, project) == before
    with stack.task_runtime.database.session() as session:
        found = counts.get_project_counts(session, project_ids=[project])[project]
        assert found["task_number"] == 0  # the rolled-back delta is gone too


def test_no_version_inside_a_transaction_that_changed_the_tasks(stack: Any, project: int) -> None:
    """What such a transaction counts may roll back, so nothing may cache it."""
    task_id = add_task(stack, project)
    with stack.task_runtime.database.session() as session:
        assert counts.tasks_version(session, project_id=project) is not None
        task = session.get(Task, task_id)
        assert task is not None
        task.data = {"text": "c"}
        assert counts.tasks_version(session, project_id=project) is None
        counts.write_pending_counters(session)  # written, not yet committed
        assert counts.tasks_version(session, project_id=project) is None
        session.commit()
        assert counts.tasks_version(session, project_id=project) is not None


def test_a_released_savepoint_still_leaves_no_version(stack: Any, project: int) -> None:
    task_id = add_task(stack, project)
    with stack.task_runtime.database.session() as session:
        with session.begin_nested():
            task = session.get(Task, task_id)
            assert task is not None
            task.data = {"text": "d"}
            counts.write_pending_counters(session)
        assert counts.tasks_version(session, project_id=project) is None  # outer still open
        session.rollback()

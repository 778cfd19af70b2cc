"""The job handle `labelops_task` returns: the one way to send a task (after commit, or now
for sweeps), its body run with the resources its service registered, and the stale-job
sweeps a service gets from its handles' job models."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from celery import _state as celery_state
from fastapi import FastAPI
from labelops_common.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, Database, utcnow
from labelops_common.jobs import (
    JobContext,
    JobRecordMixin,
    JobResources,
    create_job,
    register_job_resources,
    run_job,
    unregister_job_resources,
)
from labelops_common.queue import JobHandle, create_celery_app, labelops_task
from labelops_common.queue import app as queue_app
from labelops_common.service import ServiceJobs, ServiceRuntime
from labelops_testing.databases import scratch_database_url
from sqlalchemy import MetaData, update
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


class HandleJob(JobRecordMixin, Base):
    __tablename__ = "handle_jobs"


@dataclass(frozen=True)
class DemoResources(JobResources):
    service: ClassVar[str] = "demo-svc"
    label: str


#: (resources label, job id) of every body run.
ran: list[tuple[str, int]] = []


@labelops_task(
    name="tests.handle_job", queue="handles", job_model=HandleJob, resources=DemoResources
)
def handle_job(resources: DemoResources, job_id: int) -> str:
    def body(_context: JobContext) -> None:
        ran.append((resources.label, job_id))

    return run_job(
        session_factory=resources.database.new_session,
        model=HandleJob,
        job_id=job_id,
        body=body,
    )


@labelops_task(name="tests.handle_plain", queue="handles")
def handle_plain(value: int) -> int:
    return value + 1


@pytest.fixture()
def databases() -> Iterator[tuple[Database, Database]]:
    with scratch_database_url("handles_a") as a_url, scratch_database_url("handles_b") as b_url:
        pair = (Database.from_url(a_url), Database.from_url(b_url))
        for database in pair:
            Base.metadata.create_all(database.engine)
        try:
            yield pair
        finally:
            for database in pair:
                database.engine.dispose()


@pytest.fixture()
def resources(databases: tuple[Database, Database]) -> Iterator[tuple[DemoResources, ...]]:
    """Two instances of one service in this process; `b` is registered last."""
    pair = (
        DemoResources(database=databases[0], label="a"),
        DemoResources(database=databases[1], label="b"),
    )
    for instance in pair:
        register_job_resources(instance)
    ran.clear()
    yield pair
    for instance in pair:
        unregister_job_resources(instance)


def _new_job(database: Database) -> int:
    with database.session() as session:
        job = create_job(session, model=HandleJob, kind="demo", payload={})
        session.commit()
        return int(job.id)


def _wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_the_decorator_gives_a_handle_and_registers_the_celery_task_under_its_name() -> None:
    assert isinstance(handle_job, JobHandle) and isinstance(handle_plain, JobHandle)
    assert (handle_job.name, handle_job.queue, handle_job.job_model) == (
        "tests.handle_job",
        "handles",
        HandleJob,
    )
    previous = celery_state.default_app
    try:
        app = create_celery_app(name="labelops", broker_url="memory://", queues=["handles"])
        assert app.tasks["tests.handle_plain"].name == "tests.handle_plain"
        # The registered task runs the body (here, outside a worker).
        assert app.tasks["tests.handle_plain"](41) == 42
    finally:
        celery_state.set_default_app(previous)


def test_the_body_gets_the_registered_resources(resources: tuple[DemoResources, ...]) -> None:
    a, b = resources
    on_b = _new_job(b.database)
    assert handle_job.run(on_b) == "succeeded"  # the last registered serves
    on_a = _new_job(a.database)
    assert handle_job.run(on_a, bind=a.database.engine) == "succeeded"
    assert ran == [("b", on_b), ("a", on_a)]


def test_without_resources_registered_the_job_says_which_service_is_missing() -> None:
    with pytest.raises(RuntimeError, match="demo-svc was not built"):
        handle_job.run(1)


def test_sent_after_commit_only_through_the_process_app_from_any_thread(
    resources: tuple[DemoResources, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request thread does not see the app the main thread built (Celery's current app
    is thread-local); the handle finds it all the same and sends to the declared queue."""
    sent: list[tuple[str, list[Any], str]] = []
    previous = celery_state.default_app
    try:
        app = create_celery_app(name="labelops", broker_url="memory://", queues=["handles"])
        monkeypatch.setattr(
            app,
            "send_task",
            lambda name, args, kwargs, queue, countdown: sent.append((name, args, queue)),
        )
        a = resources[0]

        def request() -> None:
            with a.database.session() as session:
                job = create_job(session, model=HandleJob, kind="demo", payload={})
                handle_job.enqueue_after_commit(session, job.id)
                assert sent == []
                session.rollback()
                job = create_job(session, model=HandleJob, kind="demo", payload={})
                handle_job.enqueue_after_commit(session, job.id)
                session.commit()
                sent_ids.append(int(job.id))

        sent_ids: list[int] = []
        thread = threading.Thread(target=request)
        thread.start()
        thread.join(10)
    finally:
        celery_state.set_default_app(previous)
    assert sent == [("tests.handle_job", sent_ids, "handles")]
    assert ran == []  # sent, not run here


def test_without_a_celery_app_the_job_runs_in_a_thread_on_the_session_database(
    resources: tuple[DemoResources, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_app, "labelops_celery_app", lambda: None)
    a = resources[0]  # not the last registered: the session's database decides
    with a.database.session() as session:
        job = create_job(session, model=HandleJob, kind="demo", payload={})
        handle_job.enqueue_after_commit(session, job.id)
        session.commit()
        job_id = int(job.id)
    _wait_for(lambda: ran)
    assert ran == [("a", job_id)]


def test_a_service_sweeps_the_stale_jobs_of_its_handles_job_models(
    resources: tuple[DemoResources, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    a = resources[0]
    runtime = ServiceRuntime(
        name="demo-svc",
        http_app=FastAPI(),
        database=a.database,
        migrations_dir=Path("."),
        grpc_registrations=[],
        grpc_service_names=[],
        jobs=ServiceJobs(queues=("handles",), job_modules=(__name__,)),
    )
    assert runtime.queues == ("handles",)
    assert set(runtime.job_handles()) >= {handle_job, handle_plain}
    [sweep] = runtime.stale_job_sweeps()  # only the handle with a job model
    assert sweep.handle is handle_job
    resent: list[int] = []
    monkeypatch.setattr(handle_job, "send", lambda job_id, **_: resent.append(job_id))
    fresh, lost = _new_job(a.database), _new_job(a.database)
    with a.database.session() as session:
        session.execute(
            update(HandleJob)
            .where(HandleJob.id == lost)
            .values(updated_at=utcnow() - timedelta(minutes=10))
        )
        session.commit()
    assert sweep() == 1
    assert resent == [lost] and fresh not in resent


def test_the_queued_grace_of_a_sweep_is_the_callers(
    resources: tuple[DemoResources, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job queued while the broker was down is sent again once it waited the configured
    grace (`job_queued_grace_seconds`), not the 2-minute default."""
    a = resources[0]
    runtime = ServiceRuntime(
        name="demo-svc",
        http_app=FastAPI(),
        database=a.database,
        migrations_dir=Path("."),
        grpc_registrations=[],
        grpc_service_names=[],
        jobs=ServiceJobs(queues=("handles",), job_modules=(__name__,)),
    )
    resent: list[int] = []
    monkeypatch.setattr(handle_job, "send", lambda job_id, **_: resent.append(job_id))
    waited = _new_job(a.database)
    with a.database.session() as session:
        session.execute(
            update(HandleJob)
            .where(HandleJob.id == waited)
            .values(updated_at=utcnow() - timedelta(seconds=20))
        )
        session.commit()
    [default_sweep] = runtime.stale_job_sweeps()
    default_sweep()
    assert waited not in resent
    [short_sweep] = runtime.stale_job_sweeps(queued_grace=timedelta(seconds=5))
    short_sweep()
    assert waited in resent

"""Celery over kombu: enqueue after commit, the task wrapper's metrics, the embedded worker,
and crash recovery of a real worker process on Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from labelops_common.db import Database
from labelops_common.jobs import JobStatus, create_job, requeue_stale_jobs
from labelops_common.queue import (
    create_celery_app,
    labelops_task,
    purge_delivered_messages,
    start_embedded_worker,
    tasks,
)
from labelops_common.queue.tasks import check_job_arguments
from labelops_testing.databases import scratch_database_url
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

_results: list[int] = []


@labelops_task(name="tests.double", queue="unit")
def double(value: int) -> int:
    _results.append(value * 2)
    return value * 2


@pytest.fixture()
def database_url() -> Iterator[str]:
    with scratch_database_url("queue") as url:
        yield url


def test_enqueue_happens_after_commit_and_never_after_rollback(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handle's `send` (the one seam under test) is called only once the session commits."""
    database = Database.from_url(database_url)
    sent: list[tuple] = []
    monkeypatch.setattr(double, "send", lambda *args, **_: sent.append(args))
    with database.session() as session:
        session.execute(text("SELECT 1"))
        double.enqueue_after_commit(session, 41)
        assert sent == []
        session.rollback()
        session.execute(text("SELECT 1"))
        double.enqueue_after_commit(session, 42)
        session.commit()
    database.engine.dispose()
    assert sent == [(42,)]


_ran_here: list[tuple[int, str]] = []
_hold = threading.Event()


@labelops_task(name="tests.record_here", queue="local-unit", max_retries=0, autoretry_for=())
def record_here(value: int) -> str:
    _hold.wait(10)
    _ran_here.append((value, threading.current_thread().name))
    return "succeeded"


class TestRunHereAfterCommit:
    """`run_here_after_commit`: a job of a queue this process's worker takes runs on the
    job's own threads once the session commits; otherwise it is sent."""

    @pytest.fixture()
    def session(self, database_url: str) -> Iterator[Session]:
        database = Database.from_url(database_url)
        with database.session() as session:
            session.execute(text("SELECT 1"))
            yield session
        database.engine.dispose()

    @pytest.fixture(autouse=True)
    def fresh(self, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
        _ran_here.clear()
        _hold.set()
        sent: list[tuple] = []
        monkeypatch.setattr(record_here, "send", lambda *args, **_: sent.append(args))
        monkeypatch.setattr(tasks, "CONSUMED_QUEUES", {"local-unit"})
        return sent

    def _wait_for_runs(self, count: int) -> None:
        deadline = time.monotonic() + 10
        while len(_ran_here) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def test_runs_here_after_commit_and_never_after_rollback(self, session, fresh) -> None:
        record_here.run_here_after_commit(session, 1)
        session.rollback()
        session.execute(text("SELECT 1"))
        record_here.run_here_after_commit(session, 2)
        time.sleep(0.1)
        assert _ran_here == []
        session.commit()
        self._wait_for_runs(1)
        assert [value for value, _ in _ran_here] == [2]
        assert _ran_here[0][1].startswith("job-tests.record_here")
        assert fresh == []

    def test_a_queue_no_worker_here_takes_is_sent(self, session, fresh, monkeypatch) -> None:
        monkeypatch.setattr(tasks, "CONSUMED_QUEUES", {"another-queue"})
        record_here.run_here_after_commit(session, 3)
        session.commit()
        assert fresh == [(3,)]
        assert _ran_here == []

    def test_past_the_backlog_jobs_are_sent(self, session, fresh, monkeypatch) -> None:
        monkeypatch.setattr(tasks, "LOCAL_BACKLOG", 2)
        _hold.clear()  # the first two runs wait, holding the backlog
        for value in (4, 5, 6):
            record_here.run_here_after_commit(session, value)
        session.commit()
        assert fresh == [(6,)]
        _hold.set()
        self._wait_for_runs(2)
        assert sorted(value for value, _ in _ran_here) == [4, 5]

    def test_a_job_with_celery_retries_is_refused(self, session) -> None:
        with pytest.raises(ValueError, match="must go through the broker"):
            double.run_here_after_commit(session, 7)


@pytest.mark.parametrize("bad", [object(), {"x": object()}, [1, {2}], b"bytes"])
def test_job_arguments_must_be_ids_and_scalars(bad) -> None:
    with pytest.raises(TypeError):
        check_job_arguments((bad,), {})
    check_job_arguments((1, "a", None, [1, 2], {"k": 1.5}), {"flag": True})


def test_embedded_worker_consumes_from_the_postgresql_transport(database_url: str) -> None:
    """The broker `make run` uses when none is configured: kombu's SQLAlchemy transport on
    PostgreSQL (there on the embedded server; here on a scratch database)."""
    app = create_celery_app(name="unit", broker_url=f"sqla+{database_url}", queues=["unit"])
    before = (
        REGISTRY.get_sample_value(
            "labelops_celery_tasks_total",
            {"task": "tests.double", "queue": "unit", "state": "succeeded"},
        )
        or 0
    )
    worker = start_embedded_worker(app, queues=["unit"], concurrency=2)
    try:
        for value in range(5):
            double.send(value)
        deadline = time.monotonic() + 30
        while len(_results) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        started = time.monotonic()
        worker.stop(timeout=15)
        stop_seconds = time.monotonic() - started
    assert sorted(_results) == [0, 2, 4, 6, 8]
    assert stop_seconds < 15
    after = REGISTRY.get_sample_value(
        "labelops_celery_tasks_total",
        {"task": "tests.double", "queue": "unit", "state": "succeeded"},
    )
    assert after == before + 5
    assert (
        REGISTRY.get_sample_value(
            "labelops_celery_task_queue_wait_seconds_count",
            {"task": "tests.double", "queue": "unit"},
        )
        >= 5
    )
    # Taken messages stay behind as invisible rows until the sweeper's purge; one still
    # waiting is kept.
    double.send(100)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = "SELECT visible, count(*) FROM kombu_message GROUP BY visible"
            assert dict(connection.execute(text(rows)).all()) == {False: 5, True: 1}
            assert purge_delivered_messages(f"sqla+{database_url}") == 5
            assert dict(connection.execute(text(rows)).all()) == {True: 1}
    finally:
        engine.dispose()


def _start_worker(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crash_app",
            "worker",
            "-Q",
            "crash",
            "-c",
            "1",
            "-P",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
        ],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.redis
def test_a_worker_killed_mid_job_is_recovered_on_redis(
    tmp_path: Path, redis_url: str, database_url: str
) -> None:
    here = Path(__file__).parent
    sys.path.insert(0, str(here))
    try:
        import crash_app
    finally:
        sys.path.remove(str(here))
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {
        "CRASH_BROKER_URL": redis_url,
        "CRASH_DATABASE_URL": database_url,
        "CRASH_MARKER_DIR": str(markers),
    }
    database = Database.from_url(database_url)
    crash_app.Base.metadata.create_all(database.engine)
    with database.session() as session:
        job = create_job(session, model=crash_app.CrashJob, kind="crash", payload={"seconds": 3})
        session.commit()
        job_id = int(job.id)
    publisher = Celery("publisher", broker=redis_url, set_as_current=False)
    publisher.send_task("tests.crash_job", args=(job_id,), queue="crash")

    first = _start_worker(env, here)
    deadline = time.monotonic() + 30
    while not list(markers.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(markers.iterdir()), "the first worker never started the job"
    first.send_signal(signal.SIGKILL)
    first.wait(10)

    second = _start_worker(env, here)
    try:
        time.sleep(1.5)  # the dead worker's 1 s lease runs out
        requeued = requeue_stale_jobs(
            session_factory=database.new_session,
            model=crash_app.CrashJob,
            enqueue=lambda job: publisher.send_task("tests.crash_job", args=(job,), queue="crash"),
        )
        assert requeued == 1
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            with database.session() as session:
                row = session.get(crash_app.CrashJob, job_id)
                status, attempts = row.status, row.attempts
            if status == JobStatus.SUCCEEDED.value:
                break
            time.sleep(0.2)
        assert status == JobStatus.SUCCEEDED.value
        assert attempts == 2
        assert len(list(markers.iterdir())) == 2  # two worker processes ran the body
    finally:
        second.terminate()
        second.wait(20)
        database.engine.dispose()

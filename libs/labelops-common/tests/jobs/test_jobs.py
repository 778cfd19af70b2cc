"""Job records on PostgreSQL: exclusive claims, leases, retries, revival."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from labelops_common.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, Database, utcnow
from labelops_common.jobs import (
    JobCancelled,
    JobRecordMixin,
    JobStatus,
    cancel_job,
    claim_job,
    create_job,
    find_stale_jobs,
    requeue_stale_jobs,
    run_job,
)
from labelops_common.settings import get_common_settings
from labelops_testing.databases import scratch_database_url
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


class DemoJob(JobRecordMixin, Base):
    __tablename__ = "demo_jobs"


@pytest.fixture()
def database() -> Iterator[Database]:
    with scratch_database_url("jobs") as url:
        database = Database.from_url(url)
        Base.metadata.create_all(database.engine)
        yield database
        database.engine.dispose()


def new_job(database: Database, max_attempts: int = 3) -> int:
    with database.session() as session:
        job = create_job(
            session, model=DemoJob, kind="demo", payload={"n": 1}, max_attempts=max_attempts
        )
        session.commit()
        return int(job.id)


def job_row(database: Database, job_id: int) -> DemoJob:
    with database.session() as session:
        row = session.get(DemoJob, job_id)
        assert row is not None
        return row


def test_claim_is_exclusive_even_when_racing(database: Database) -> None:
    job_id = new_job(database)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def claim(worker: int) -> None:
        with database.session() as session:
            barrier.wait()
            results.append(
                claim_job(
                    session, model=DemoJob, job_id=job_id, worker_id=f"w{worker}", lease_seconds=30
                )
            )

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
    assert job_row(database, job_id).attempts == 1


def test_a_redelivered_message_does_no_double_work(database: Database) -> None:
    job_id = new_job(database)
    runs: list[int] = []

    def body(context) -> None:
        runs.append(context.payload["n"])
        context.report_progress(1, total=1)

    first = run_job(session_factory=database.new_session, model=DemoJob, job_id=job_id, body=body)
    second = run_job(session_factory=database.new_session, model=DemoJob, job_id=job_id, body=body)
    assert (first, second) == ("succeeded", "skipped")
    assert runs == [1]
    row = job_row(database, job_id)
    assert (row.status, row.progress, row.total) == ("succeeded", 1, 1)
    assert row.finished_at is not None


def test_a_job_whose_worker_died_is_found_and_run_again(database: Database) -> None:
    job_id = new_job(database)
    with database.session() as session:  # a worker claims it, then dies without heartbeats
        assert claim_job(session, model=DemoJob, job_id=job_id, worker_id="dead", lease_seconds=0.2)
    with database.session() as session:
        assert find_stale_jobs(session, model=DemoJob) == []
    time.sleep(0.4)
    enqueued: list[int] = []
    assert (
        requeue_stale_jobs(
            session_factory=database.new_session, model=DemoJob, enqueue=enqueued.append
        )
        == 1
    )
    assert enqueued == [job_id]
    status = run_job(
        session_factory=database.new_session, model=DemoJob, job_id=job_id, body=lambda _c: None
    )
    assert status == "succeeded"
    assert job_row(database, job_id).attempts == 2


def test_heartbeat_keeps_a_long_job_alive(database: Database) -> None:
    job_id = new_job(database)
    stale_during_run: list[list[int]] = []

    def slow_body(_context) -> None:
        for _ in range(4):
            time.sleep(0.25)
            with database.session() as session:
                stale_during_run.append(find_stale_jobs(session, model=DemoJob))

    status = run_job(
        session_factory=database.new_session,
        model=DemoJob,
        job_id=job_id,
        body=slow_body,
        lease_seconds=0.4,
    )
    assert status == "succeeded"
    assert all(found == [] for found in stale_during_run)


def test_the_lease_is_the_job_lease_setting(database: Database, monkeypatch) -> None:
    """A job that names no lease of its own holds `LABELOPS_JOB_LEASE_SECONDS`."""
    monkeypatch.setenv("LABELOPS_JOB_LEASE_SECONDS", "600")
    get_common_settings.cache_clear()
    job_id = new_job(database)
    held: list[float] = []

    def body(_context) -> None:
        row = job_row(database, job_id)
        assert row.lease_expires_at is not None
        held.append((row.lease_expires_at - utcnow()).total_seconds())

    try:
        status = run_job(
            session_factory=database.new_session, model=DemoJob, job_id=job_id, body=body
        )
    finally:
        get_common_settings.cache_clear()
    assert status == "succeeded"
    assert 590 < held[0] <= 600


def test_failures_retry_then_fail_for_good(database: Database) -> None:
    job_id = new_job(database, max_attempts=2)

    def broken(_context) -> None:
        raise ValueError("bad row 7")

    assert (
        run_job(session_factory=database.new_session, model=DemoJob, job_id=job_id, body=broken)
        == "queued"
    )
    assert (
        run_job(session_factory=database.new_session, model=DemoJob, job_id=job_id, body=broken)
        == "failed"
    )
    row = job_row(database, job_id)
    assert (row.status, row.attempts, row.error) == (
        JobStatus.FAILED.value,
        2,
        "ValueError: bad row 7",
    )
    assert (
        run_job(session_factory=database.new_session, model=DemoJob, job_id=job_id, body=broken)
        == "skipped"
    )
    with database.session() as session:
        assert find_stale_jobs(session, model=DemoJob, queued_grace=timedelta(0)) == []


def test_a_body_that_finds_its_job_cancelled_stops_without_a_failure(database: Database) -> None:
    job_id = new_job(database)

    def cancelled_midway(_context) -> None:
        with database.session() as session:
            assert cancel_job(session, model=DemoJob, job_id=job_id)
        raise JobCancelled("row cancelled")

    assert (
        run_job(
            session_factory=database.new_session,
            model=DemoJob,
            job_id=job_id,
            body=cancelled_midway,
        )
        == "cancelled"
    )
    row = job_row(database, job_id)
    assert (row.status, row.attempts, row.error) == (JobStatus.CANCELLED.value, 1, None)
    with database.session() as session:
        assert find_stale_jobs(session, model=DemoJob, queued_grace=timedelta(0)) == []


def test_a_queued_job_whose_message_was_lost_is_swept(database: Database) -> None:
    job_id = new_job(database)
    with database.session() as session:
        assert find_stale_jobs(session, model=DemoJob) == []  # inside the grace period
        assert find_stale_jobs(session, model=DemoJob, queued_grace=timedelta(0)) == [job_id]

"""Running a job body under a lease, with a heartbeat; and the sweeper that revives stale jobs."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from labelops_common.jobs import service as jobs
from labelops_common.settings import get_common_settings

logger = logging.getLogger(__name__)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class LeaseLost(Exception):
    """Another worker took the job over (this one stalled past its lease)."""


class JobCancelled(Exception):
    """Raised by a body that finds its row cancelled or deleted: it stops, and `run_job`
    leaves the row as it is (no failure recorded, no retry)."""


@dataclass
class JobContext:
    job_id: int
    payload: dict[str, Any]
    _progress: dict[str, int | None] = field(default_factory=dict)

    def report_progress(self, progress: int, total: int | None = None) -> None:
        self._progress["progress"] = progress
        if total is not None:
            self._progress["total"] = total


class _Heartbeat(threading.Thread):
    def __init__(self, renew: Callable[[], bool], interval: float) -> None:
        super().__init__(daemon=True, name="job-heartbeat")
        self._renew = renew
        self._interval = interval
        self._stop_event = threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self._stop_event.wait(self._interval):
            try:
                if not self._renew():
                    self.lost = True
                    return
            except Exception:
                logger.exception("job heartbeat failed")

    def stop(self) -> None:
        self._stop_event.set()
        self.join(self._interval + 1)


def run_job(
    *,
    session_factory: Callable[[], Session],
    model: Any,
    job_id: int,
    body: Callable[[JobContext], None],
    lease_seconds: float | None = None,
    worker_id: str | None = None,
    retryable: Callable[[BaseException], bool] = lambda _exc: True,
) -> str:
    """Claim, run, finish. Returns the final status, or "skipped" if the job was not ours.

    The lease is `LABELOPS_JOB_LEASE_SECONDS` unless the job needs its own."""
    worker_id = worker_id or default_worker_id()
    if lease_seconds is None:
        lease_seconds = get_common_settings().job_lease_seconds
    with session_factory() as session:
        if not jobs.claim_job(
            session, model=model, job_id=job_id, worker_id=worker_id, lease_seconds=lease_seconds
        ):
            return "skipped"
        job: Any = session.get(model, job_id)
        payload = dict(job.payload or {})
    context = JobContext(job_id=job_id, payload=payload)

    def renew() -> bool:
        with session_factory() as session:
            return jobs.renew_lease(
                session,
                model=model,
                job_id=job_id,
                worker_id=worker_id,
                lease_seconds=lease_seconds,
                progress=context._progress.get("progress"),
                total=context._progress.get("total"),
            )

    heartbeat = _Heartbeat(renew, interval=max(lease_seconds / 3, 0.05))
    heartbeat.start()
    try:
        body(context)
    except JobCancelled:
        heartbeat.stop()
        logger.info("job stopped: cancelled or deleted", extra={"job_id": job_id})
        return "cancelled"
    except Exception as exc:
        heartbeat.stop()
        with session_factory() as session:
            status = jobs.fail_job(
                session,
                model=model,
                job_id=job_id,
                worker_id=worker_id,
                error=f"{type(exc).__name__}: {exc}",
                retryable=retryable(exc),
            )
        logger.warning("job failed", extra={"job_id": job_id, "job_status": status})
        return status
    heartbeat.stop()
    renew()
    with session_factory() as session:
        if not jobs.complete_job(session, model=model, job_id=job_id, worker_id=worker_id):
            raise LeaseLost(f"job {job_id} was taken over before it finished")
    return "succeeded"


def requeue_stale_jobs(
    *,
    session_factory: Callable[[], Session],
    model: Any,
    enqueue: Callable[[int], None],
    queued_grace: timedelta = jobs.QUEUED_GRACE,
) -> int:
    with session_factory() as session:
        stale = jobs.find_stale_jobs(session, model=model, queued_grace=queued_grace)
    for job_id in stale:
        enqueue(job_id)
    return len(stale)


class StaleJobSweeper(threading.Thread):
    """Calls `sweep` every `interval_seconds` until stopped (one per worker process)."""

    def __init__(self, sweep: Callable[[], int], interval_seconds: float) -> None:
        super().__init__(daemon=True, name="stale-job-sweeper")
        self._sweep = sweep
        self._interval = interval_seconds
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self._interval):
            try:
                self._sweep()
            except Exception:
                logger.exception("stale job sweep failed")

    def stop(self) -> None:
        self._stop_event.set()
        self.join(self._interval + 1)

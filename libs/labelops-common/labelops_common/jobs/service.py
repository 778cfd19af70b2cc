"""Job state changes, each a conditional UPDATE so concurrent workers cannot collide."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from labelops_common.db import utcnow
from labelops_common.jobs.models import FINISHED, JobStatus

#: A queued job this old with no lease may have lost its message (the embedded
#: transport does not redeliver); the sweeper enqueues it again.
QUEUED_GRACE = timedelta(minutes=2)


def create_job(
    session: Session,
    *,
    model: Any,
    kind: str,
    payload: dict[str, Any],
    total: int | None = None,
    max_attempts: int = 3,
) -> Any:
    job = model(kind=kind, payload=payload, total=total, max_attempts=max_attempts)
    session.add(job)
    session.flush()
    return job


def claim_job(
    session: Session, *, model: Any, job_id: int, worker_id: str, lease_seconds: float
) -> bool:
    """Take the job if it is queued or its lease ran out; False if someone else has it or it
    is finished (so a redelivered message does no double work)."""
    now = utcnow()
    result = session.execute(
        update(model)
        .where(
            model.id == job_id,
            or_(
                model.status == JobStatus.QUEUED.value,
                and_(model.status == JobStatus.RUNNING.value, model.lease_expires_at < now),
            ),
            model.attempts < model.max_attempts,
        )
        .values(
            status=JobStatus.RUNNING.value,
            attempts=model.attempts + 1,
            lease_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            started_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(getattr(result, "rowcount", 0))


def renew_lease(
    session: Session,
    *,
    model: Any,
    job_id: int,
    worker_id: str,
    lease_seconds: float,
    progress: int | None = None,
    total: int | None = None,
) -> bool:
    """Extends the lease (and records progress); False means the lease was lost."""
    values: dict[str, Any] = {
        "lease_expires_at": utcnow() + timedelta(seconds=lease_seconds),
        "updated_at": utcnow(),
    }
    if progress is not None:
        values["progress"] = progress
    if total is not None:
        values["total"] = total
    result = session.execute(
        update(model)
        .where(
            model.id == job_id,
            model.lease_owner == worker_id,
            model.status == JobStatus.RUNNING.value,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(getattr(result, "rowcount", 0))


def complete_job(session: Session, *, model: Any, job_id: int, worker_id: str) -> bool:
    return _finish(
        session,
        model=model,
        job_id=job_id,
        worker_id=worker_id,
        values={"status": JobStatus.SUCCEEDED.value, "error": None},
    )


def fail_job(
    session: Session, *, model: Any, job_id: int, worker_id: str, error: str, retryable: bool
) -> str:
    """Back to queued while attempts remain and the error is retryable; else failed."""
    job: Any = session.get(model, job_id, populate_existing=True)
    final = not retryable or job.attempts >= job.max_attempts
    status = JobStatus.FAILED if final else JobStatus.QUEUED
    values: dict[str, Any] = {"status": status.value, "error": error[:2000]}
    if not final:
        values.update(lease_owner=None, lease_expires_at=None)
    _finish(session, model=model, job_id=job_id, worker_id=worker_id, values=values, final=final)
    return status.value


def _finish(
    session: Session,
    *,
    model: Any,
    job_id: int,
    worker_id: str,
    values: dict[str, Any],
    final: bool = True,
) -> bool:
    now = utcnow()
    if final:
        values = {**values, "finished_at": now}
    result = session.execute(
        update(model)
        .where(
            model.id == job_id,
            model.lease_owner == worker_id,
            model.status == JobStatus.RUNNING.value,
        )
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(getattr(result, "rowcount", 0))


def cancel_job(session: Session, *, model: Any, job_id: int) -> bool:
    result = session.execute(
        update(model)
        .where(model.id == job_id, model.status.not_in([s.value for s in FINISHED]))
        .values(status=JobStatus.CANCELLED.value, finished_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(getattr(result, "rowcount", 0))


def find_stale_jobs(
    session: Session, *, model: Any, queued_grace: timedelta = QUEUED_GRACE
) -> list[int]:
    """Running jobs whose lease expired, and queued jobs that waited past the grace period."""
    now = utcnow()
    statement = select(model.id).where(
        model.attempts < model.max_attempts,
        or_(
            and_(model.status == JobStatus.RUNNING.value, model.lease_expires_at < now),
            and_(model.status == JobStatus.QUEUED.value, model.updated_at < now - queued_grace),
        ),
    )
    return list(session.scalars(statement))

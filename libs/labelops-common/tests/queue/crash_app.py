"""A Celery app for the crash-recovery test, run in a separate worker process."""

from __future__ import annotations

import os
import time
from functools import cache

from labelops_common.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, Database
from labelops_common.jobs import JobRecordMixin, run_job
from labelops_common.queue import create_celery_app, labelops_task
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


class CrashJob(JobRecordMixin, Base):
    __tablename__ = "crash_jobs"


app = create_celery_app(
    name="crash-test", broker_url=os.environ.get("CRASH_BROKER_URL", "memory://"), queues=["crash"]
)


@cache
def database() -> Database:
    """The job records' database, opened by the worker (importing this opens nothing)."""
    return Database.from_url(os.environ["CRASH_DATABASE_URL"])


@labelops_task(name="tests.crash_job", queue="crash")
def crash_job(job_id: int) -> str:
    def body(context) -> None:
        marker = os.environ["CRASH_MARKER_DIR"]
        with open(os.path.join(marker, f"started-{os.getpid()}"), "w") as handle:
            handle.write(str(job_id))
        time.sleep(float(context.payload.get("seconds", 2)))

    return run_job(
        session_factory=database().new_session,
        model=CrashJob,
        job_id=job_id,
        body=body,
        lease_seconds=1.0,
    )

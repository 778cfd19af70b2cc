"""Job records: long work is a row in the owning service's database.

The Celery message only says "run job 42"; status, progress, attempts and the lease live
here, so a lost message or a dead worker is noticed and the job picked up again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from labelops_common.db import json_type, utcnow


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobRecordMixin:
    """Columns of a job table; each service declares its own (`class ImportJob(JobRecordMixin, Base)`)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    payload: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    progress: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None] = mapped_column(nullable=True, default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    error: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True, default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(nullable=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True, default=None)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (Index(f"ix_{cls.__tablename__}_status_lease", "status", "lease_expires_at"),)  # type: ignore[attr-defined]

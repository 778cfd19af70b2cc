"""Training jobs, and the record of annotation events already turned into them."""

from __future__ import annotations

from typing import Any

from labelops_common.db import json_type
from labelops_common.events import ProcessedEventMixin
from labelops_common.jobs import JobRecordMixin
from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ml_gateway.db import Base


class TrainJob(JobRecordMixin, Base):
    """One call asking a backend to train: `/webhook` with START_TRAINING (`POST
    /api/ml/{id}/train`) or with an annotation event (the project trains on annotations),
    falling back to the legacy `/train` for a backend without `/webhook`.

    `payload` holds the event's ids (`annotation_id`, `task_id`); `response` what the
    backend answered (its `result`, or `job`), for the job's status.
    """

    __tablename__ = "ml_train_jobs"

    project_id: Mapped[int] = mapped_column(BigInteger)
    ml_backend_id: Mapped[int] = mapped_column(BigInteger)
    #: START_TRAINING, or the annotation event that triggered it.
    action: Mapped[str] = mapped_column(String(64))
    requested_by_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    response: Mapped[dict[str, Any] | None] = mapped_column(json_type(), default=None)

    __table_args__ = (
        Index("ix_ml_train_jobs_status_lease", "status", "lease_expires_at"),
        Index("ix_ml_train_jobs_backend", "ml_backend_id", "id"),
    )


class ProcessedEvent(ProcessedEventMixin, Base):
    """Annotation events already applied (at-least-once delivery, applied once)."""

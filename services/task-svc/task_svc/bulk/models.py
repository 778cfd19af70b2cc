"""Batches of `BulkCreateTasks` streams already applied, so a retried stream is a no-op."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type, utcnow
from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base, BigId


class AppliedBatch(Base):
    """One `TaskBatch` of a stream with an idempotency key, written in the stream's transaction.

    The unique index makes a concurrent duplicate of the same batch wait for the first
    writer and then fail, instead of writing its tasks twice.
    """

    __tablename__ = "bulk_applied_batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    batch_index: Mapped[int] = mapped_column()
    task_count: Mapped[int] = mapped_column(default=0)
    annotation_count: Mapped[int] = mapped_column(default=0)
    prediction_count: Mapped[int] = mapped_column(default=0)
    #: The new task ids, so a retried stream answers as the first one did.
    task_ids: Mapped[list[Any]] = mapped_column(json_type(), default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index(
            "ix_bulk_applied_batches_key",
            "project_id",
            "idempotency_key",
            "batch_index",
            unique=True,
        ),
        Index("ix_bulk_applied_batches_created_at", "created_at"),
    )

"""Prediction jobs: "Retrieve predictions" for some tasks or a whole project, one row each."""

from __future__ import annotations

from labelops_common.jobs import JobRecordMixin
from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ml_gateway.db import Base


class PredictionJob(JobRecordMixin, Base):
    """Predict tasks in batches through a backend and store the predictions in task-svc.

    `payload` holds `{"task_ids": [...]}` or `{"all_tasks": true}`. `progress`/`total` count
    tasks handled; `predicted`, `skipped` (a prediction of the model version existed, or
    the backend had none) and `failed` (the backend failed or answered something that does
    not fit the labeling
    config, nothing stored) split them, and `last_error` says why the last failure happened.
    """

    __tablename__ = "ml_prediction_jobs"

    project_id: Mapped[int] = mapped_column(BigInteger)
    ml_backend_id: Mapped[int] = mapped_column(BigInteger)
    requested_by_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    model_version: Mapped[str] = mapped_column(String(255), default="")
    predicted: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (
        Index("ix_ml_prediction_jobs_status_lease", "status", "lease_expires_at"),
        Index("ix_ml_prediction_jobs_project_id", "project_id", "id"),
    )

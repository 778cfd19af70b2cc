"""Predictions: a model's pre-labels for one task."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type, utcnow
from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base, BigId


class Prediction(Base):
    __tablename__ = "predictions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[list[Any]] = mapped_column(json_type(), default=list)
    score: Mapped[float | None] = mapped_column(default=None)
    model_version: Mapped[str] = mapped_column(String(255), default="")
    mislabeling: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_predictions_task_id", "task_id"),
        Index("ix_predictions_project_id_model_version", "project_id", "model_version"),
    )

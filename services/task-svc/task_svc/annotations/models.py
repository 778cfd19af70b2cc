"""Annotations: a user's labels for one task (or a skip)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type, utcnow
from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base, BigId


class Annotation(Base):
    __tablename__ = "annotations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(BigInteger)
    completed_by_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    updated_by_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    result: Mapped[list[Any]] = mapped_column(json_type(), default=list)
    was_cancelled: Mapped[bool] = mapped_column(default=False)
    ground_truth: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    draft_created_at: Mapped[datetime | None] = mapped_column(default=None)
    lead_time: Mapped[float | None] = mapped_column(default=None)
    parent_prediction_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    parent_annotation_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    import_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    last_action: Mapped[str | None] = mapped_column(String(32), default=None)
    #: Client-chosen id; a repeat is a 409, which makes a retried create safe.
    unique_id: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    bulk_created: Mapped[bool] = mapped_column(default=False)
    #: The newest review's verdict (`reviews.models.REVIEW_STATUSES`); None: not reviewed
    #: since it was submitted or last changed by its author.
    review_status: Mapped[str | None] = mapped_column(String(32), default=None)
    #: The newest review's comment: a rejection's reason, shown to the annotator.
    review_comment: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (
        Index("ix_annotations_task_id", "task_id"),
        Index("ix_annotations_project_id_completed_by_id", "project_id", "completed_by_id"),
        # The review stream: a project's annotations awaiting review, oldest first.
        Index(
            "ix_annotations_project_id_unreviewed",
            "project_id",
            "id",
            postgresql_where=text("review_status IS NULL AND NOT was_cancelled"),
        ),
    )

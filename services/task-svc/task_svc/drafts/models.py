"""Drafts: unsaved work on a task (fresh, or on top of an annotation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type, utcnow
from sqlalchemy import BigInteger, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base, BigId


class Draft(Base):
    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(BigInteger)
    annotation_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("annotations.id", ondelete="CASCADE"), default=None
    )
    user_id: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[list[Any]] = mapped_column(json_type(), default=list)
    lead_time: Mapped[float | None] = mapped_column(default=None)
    was_postponed: Mapped[bool] = mapped_column(default=False)
    import_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_drafts_task_id_user_id", "task_id", "user_id"),
        Index("ix_drafts_annotation_id", "annotation_id"),
        # The label stream's postponed queue: one user's drafts in one project.
        Index("ix_drafts_user_id_project_id", "user_id", "project_id"),
    )

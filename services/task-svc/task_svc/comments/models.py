"""Comments on a task or on one of its annotations (Label Studio Enterprise's `Comment`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type, utcnow
from sqlalchemy import BigInteger, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base, BigId


class Comment(Base):
    """The task's `comment_count` and `unresolved_comment_count` are kept with every write
    here (`service.py`), so the data manager filters and orders on them by index."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigInteger)
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"))
    #: Deleting the annotation keeps its comments on the task, so the task's counters
    #: stay exact without the annotations domain knowing about comments.
    annotation_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("annotations.id", ondelete="SET NULL"), default=None
    )
    created_by_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    #: Which part of the annotation the comment is about (a region id, a control name).
    region_ref: Mapped[dict[str, Any] | None] = mapped_column(json_type(), default=None)
    is_resolved: Mapped[bool] = mapped_column(default=False)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_comments_task_id_id", "task_id", "id"),
        Index("ix_comments_project_id_id", "project_id", "id"),
        Index("ix_comments_annotation_id", "annotation_id"),
    )

"""Task assignments: who is to annotate or review which task (Label Studio Enterprise's
`TaskAssignment`). The label stream's reservation of a task is its `TaskLock`, not a row here."""

from __future__ import annotations

from datetime import datetime

from labelops_common.db import utcnow
from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base

ANNOTATE = "annotate"
REVIEW = "review"
KINDS = (ANNOTATE, REVIEW)


class TaskAssignment(Base):
    __tablename__ = "task_assignments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    #: "annotate" or "review" (Label Studio's "AN" and "RE").
    kind: Mapped[str] = mapped_column(String(16))
    assigned_by_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # One row per person and kind on a task; also the per-task lookup.
        UniqueConstraint("task_id", "user_id", "kind", name="uq_task_assignments_task_user_kind"),
        # A person's queue in a project, read in task order (label stream, task list, caps).
        Index("ix_task_assignments_queue", "project_id", "user_id", "kind", "task_id"),
    )

"""Task locks: who holds which task in the label stream, until when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base


class TaskLock(Base):
    __tablename__ = "task_locks"

    task_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime]
    unique_id: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_task_locks_project_id_expires_at", "project_id", "expires_at"),
        Index("ix_task_locks_user_id", "user_id"),
    )

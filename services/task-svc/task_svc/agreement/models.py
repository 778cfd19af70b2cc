"""Agreement between annotators, kept on write: one row per task, one per annotator pair."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type, utcnow
from sqlalchemy import BigInteger, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base


class TaskAgreement(Base):
    """A task's agreement: the mean of its annotator pairs' scores (`metrics.py`).

    The data manager's `agreement` column and filter read this row, never the annotations.
    """

    __tablename__ = "task_agreements"

    task_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(BigInteger)
    #: 0-1; None while fewer than two annotators submitted.
    agreement: Mapped[float | None] = mapped_column(default=None)
    #: Submitted (not skipped) annotations counted, one per annotator.
    annotations_count: Mapped[int] = mapped_column(default=0)
    #: Control name → mean score over the pairs.
    controls: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    #: agreement < the project's `agreement_threshold` (false without a threshold).
    needs_review: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # Filters and orderings of one project's tasks by agreement (data manager).
        Index("ix_task_agreements_project_id_agreement", "project_id", "agreement"),
        # The review queue's low-agreement tasks first.
        Index(
            "ix_task_agreements_needs_review",
            "project_id",
            "task_id",
            postgresql_where=text("needs_review"),
        ),
    )


class AnnotatorPairAgreement(Base):
    """Two annotators' score on one task (`annotator_a` < `annotator_b`)."""

    __tablename__ = "task_agreement_pairs"

    task_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    annotator_a: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    annotator_b: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    project_id: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[float] = mapped_column()
    controls: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)

    __table_args__ = (
        # Per project, per pair and per annotator means.
        Index("ix_task_agreement_pairs_project_pair", "project_id", "annotator_a", "annotator_b"),
    )

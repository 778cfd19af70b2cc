"""Annotation reviews: a reviewer's verdict on one annotation, in order, and who is
reviewing what right now.

The verdict that counts is the annotation's newest review; it is kept on the annotation
itself (`annotations.review_status`, `review_comment`) and in its task's counters
(`reviews_accepted`, `reviews_rejected`, `reviewed`) on every write, so nothing is counted
on read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type, utcnow
from sqlalchemy import BigInteger, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base, BigId

#: The annotation's review status, as Label Studio Enterprise names the `last_action`s.
ACCEPTED = "accepted"
REJECTED = "rejected"
FIXED_AND_ACCEPTED = "fixed_and_accepted"
REVIEW_STATUSES = (ACCEPTED, REJECTED, FIXED_AND_ACCEPTED)


class AnnotationReview(Base):
    """One review. A fix keeps the annotation's result from before it (`previous_result`),
    so the annotator's original stays retrievable after the reviewer rewrote it."""

    __tablename__ = "annotation_reviews"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    annotation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("annotations.id", ondelete="CASCADE")
    )
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(BigInteger)
    reviewer_id: Mapped[int] = mapped_column(BigInteger)
    #: The annotation's author when it was reviewed.
    annotator_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    accepted: Mapped[bool]
    #: The reason (required on a rejection).
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    #: The reviewer's fixed result (fix and accept); None for a plain verdict.
    result: Mapped[list[Any] | None] = mapped_column(json_type(), default=None)
    #: The annotation's result the fix replaced.
    previous_result: Mapped[list[Any] | None] = mapped_column(json_type(), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_annotation_reviews_annotation_id_id", "annotation_id", "id"),
        # The data manager's `reviewers` filter probes (task, reviewer).
        Index("ix_annotation_reviews_task_id_reviewer_id", "task_id", "reviewer_id"),
        Index("ix_annotation_reviews_project_id_id", "project_id", "id"),
    )


class ReviewLock(Base):
    """An annotation held by the reviewer the review stream gave it to, until `expires_at`:
    other reviewers are given other annotations meanwhile."""

    __tablename__ = "annotation_review_locks"

    annotation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("annotations.id", ondelete="CASCADE"), primary_key=True
    )
    reviewer_id: Mapped[int] = mapped_column(BigInteger)
    project_id: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime]

    __table_args__ = (Index("ix_annotation_review_locks_reviewer_id", "reviewer_id", "project_id"),)

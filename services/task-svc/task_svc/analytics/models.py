"""Analytics: per-hour rollups kept up to date on write, and the facts that feed them.

Every figure the API serves is read from the two rollup tables (`analytics_user_hours`,
`analytics_project_hours`): a few rows per project, person and hour, whatever the number
of tasks. The fact tables hold what each source row last contributed (an annotation, a
task's first completion, a review, a task's agreement), so an update or a delete takes
back exactly what was added: the handlers apply the difference, never a recount.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base, BigId

#: The person of an annotation without an author (`completed_by` unset).
NO_USER = 0


class UserHour(Base):
    """One person's figures in one project for one hour (UTC)."""

    __tablename__ = "analytics_user_hours"

    project_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    #: Annotations submitted (not skipped), and skips.
    annotations: Mapped[int] = mapped_column(BigInteger, default=0)
    skipped: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Label Studio's `lead_time` (seconds spent), over annotations that report it.
    lead_time_sum: Mapped[float] = mapped_column(Float, default=0.0)
    lead_time_count: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Tasks whose first submitted annotation is this person's, and the seconds from
    #: each task's creation to that annotation.
    tasks_completed: Mapped[int] = mapped_column(BigInteger, default=0)
    completion_seconds_sum: Mapped[float] = mapped_column(Float, default=0.0)
    #: Reviews this person gave, by outcome.
    reviews_accepted: Mapped[int] = mapped_column(BigInteger, default=0)
    reviews_rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Reviews of this person's annotations, by outcome.
    accepted_received: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected_received: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Agreement of the tasks this person annotated, as computed in this hour.
    agreement_sum: Mapped[float] = mapped_column(Float, default=0.0)
    agreement_count: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (Index("ix_analytics_user_hours_project_id_hour", "project_id", "hour"),)


class ProjectHour(Base):
    """A project's task agreement computed in one hour (a task counts once, however many
    people annotated it, so it cannot be summed from the people's rows)."""

    __tablename__ = "analytics_project_hours"

    project_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    agreement_sum: Mapped[float] = mapped_column(Float, default=0.0)
    agreement_count: Mapped[int] = mapped_column(BigInteger, default=0)


class AnnotationFact(Base):
    """What one annotation adds to its author's hour."""

    __tablename__ = "analytics_annotation_facts"

    annotation_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigInteger)
    task_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    hour: Mapped[datetime] = mapped_column()
    was_cancelled: Mapped[bool] = mapped_column(default=False)
    lead_time: Mapped[float | None] = mapped_column(Float, default=None)

    __table_args__ = (
        Index("ix_analytics_annotation_facts_project_id_task_id", "project_id", "task_id"),
    )


class CompletionFact(Base):
    """A task's first submitted annotation: who, when, and how long after the task came."""

    __tablename__ = "analytics_completion_facts"

    task_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigInteger, index=True)
    annotation_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    hour: Mapped[datetime] = mapped_column()
    seconds: Mapped[float] = mapped_column(Float)


class ReviewFact(Base):
    """A review's outcome as last reported (`as_of`: the event's time, so an older event
    arriving late changes nothing)."""

    __tablename__ = "analytics_review_facts"

    review_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigInteger, index=True)
    reviewer_id: Mapped[int] = mapped_column(BigInteger)
    annotator_id: Mapped[int] = mapped_column(BigInteger)
    hour: Mapped[datetime] = mapped_column()
    accepted: Mapped[bool] = mapped_column()
    as_of: Mapped[datetime] = mapped_column()


class AgreementFact(Base):
    """A task's agreement as last reported, and the annotators it was credited to."""

    __tablename__ = "analytics_agreement_facts"

    task_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigInteger, index=True)
    hour: Mapped[datetime] = mapped_column()
    agreement: Mapped[float] = mapped_column(Float)
    annotator_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), default=list)
    as_of: Mapped[datetime] = mapped_column()

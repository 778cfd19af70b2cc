"""A task: one item to label, with the counters its annotations and predictions keep."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type, utcnow
from sqlalchemy import BigInteger, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base, BigId


class Task(Base):
    """Counters are written with every annotation and prediction change, never counted on read."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigInteger)
    #: Per-project number starting at 1 (Label Studio's `inner_id`).
    inner_id: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(json_type())
    meta: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    is_labeled: Mapped[bool] = mapped_column(default=False)
    overlap: Mapped[int] = mapped_column(default=1)
    total_annotations: Mapped[int] = mapped_column(default=0)
    cancelled_annotations: Mapped[int] = mapped_column(default=0)
    #: Label Studio's useful annotations: not skipped and not ground truth.
    useful_annotations: Mapped[int] = mapped_column(default=0, server_default="0")
    total_predictions: Mapped[int] = mapped_column(default=0)
    #: Created time of the newest finished annotation once the task is labeled.
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Mean prediction score, for uncertainty sampling and data-manager ordering.
    predictions_score: Mapped[float | None] = mapped_column(default=None)
    file_upload_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    #: Where the task came from (a storage object key), for de-duplicating re-syncs.
    source_key: Mapped[str | None] = mapped_column(String(1024), default=None)
    #: The state last recorded in its FSM history (`fsm.records`); None: never recorded,
    #: inferred from the counters (a task imported in bulk).
    fsm_state: Mapped[str | None] = mapped_column(String(50), default=None)
    #: Kept by `comments.service` with every comment written, resolved or deleted.
    comment_count: Mapped[int] = mapped_column(default=0, server_default="0")
    unresolved_comment_count: Mapped[int] = mapped_column(default=0, server_default="0")
    last_comment_updated_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Its annotations whose newest review accepted them (fixes included) / rejected them.
    reviews_accepted: Mapped[int] = mapped_column(default=0, server_default="0")
    reviews_rejected: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Every submitted annotation of the task has a verdict (and it has one at least).
    reviewed: Mapped[bool] = mapped_column(default=False, server_default="false")
    #: A copy of `task_agreements.agreement`, written with it (`agreement.service`), so the
    #: data manager filters and orders by agreement with an index walk on `tasks`.
    agreement: Mapped[float | None] = mapped_column(default=None)

    # Ordering indexes end with `id`, the data manager's tiebreaker, so a page of any
    # ordering is an index walk (PostgreSQL walks them backwards for descending orders).
    __table_args__ = (
        Index("ix_tasks_project_id_inner_id", "project_id", "inner_id", unique=True),
        Index("ix_tasks_project_id_id", "project_id", "id"),
        Index("ix_tasks_project_id_is_labeled", "project_id", "is_labeled", "id"),
        Index("ix_tasks_project_id_updated_at", "project_id", "updated_at", "id"),
        Index("ix_tasks_project_id_completed_at", "project_id", "completed_at", "id"),
        Index("ix_tasks_project_id_total_annotations", "project_id", "total_annotations", "id"),
        Index("ix_tasks_project_id_predictions_score", "project_id", "predictions_score", "id"),
        # Partial: most tasks come from neither an uploaded file nor a storage object, and
        # every index a task is in costs its import ~10% more on PostgreSQL. Lookups name
        # a value (`= x`, `IN (...)`), which implies NOT NULL, so the planner still uses them.
        # Partial, for the same reason: an imported task has no review, so these cost the
        # import nothing; a filter naming a positive count or `reviewed = true` implies
        # the predicate and walks them.
        # Partial: only tasks two annotators finished have a score; a filter naming a number
        # implies NOT NULL and walks it, in agreement order.
        Index(
            "ix_tasks_project_id_agreement",
            "project_id",
            "agreement",
            "id",
            postgresql_where=text("agreement IS NOT NULL"),
        ),
        Index(
            "ix_tasks_project_id_reviews_accepted",
            "project_id",
            "reviews_accepted",
            "id",
            postgresql_where=text("reviews_accepted > 0"),
        ),
        Index(
            "ix_tasks_project_id_reviews_rejected",
            "project_id",
            "reviews_rejected",
            "id",
            postgresql_where=text("reviews_rejected > 0"),
        ),
        Index(
            "ix_tasks_project_id_reviewed", "project_id", "id", postgresql_where=text("reviewed")
        ),
        Index(
            "ix_tasks_file_upload_id",
            "file_upload_id",
            postgresql_where=text("file_upload_id IS NOT NULL"),
        ),
        # Partial, as above: a bulk import writes tasks without comments, so these cost it
        # nothing; "tasks with (unresolved) comments" - a range above zero - is an index scan.
        Index(
            "ix_tasks_project_id_comment_count",
            "project_id",
            "comment_count",
            "id",
            postgresql_where=text("comment_count > 0"),
        ),
        Index(
            "ix_tasks_project_id_unresolved_comment_count",
            "project_id",
            "unresolved_comment_count",
            "id",
            postgresql_where=text("unresolved_comment_count > 0"),
        ),
        Index(
            "ix_tasks_project_id_source_key",
            "project_id",
            "source_key",
            postgresql_where=text("source_key IS NOT NULL"),
        ),
    )

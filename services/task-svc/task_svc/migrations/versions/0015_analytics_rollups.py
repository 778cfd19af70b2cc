"""Analytics: hourly rollups per project and person, the facts feeding them, and the
record of the events task-svc's handlers have applied

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 20:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HOUR = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("handler", sa.String(length=255), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "handler", name=op.f("pk_processed_events")),
    )
    op.create_table(
        "analytics_user_hours",
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("hour", _HOUR, nullable=False),
        sa.Column("annotations", sa.BigInteger(), nullable=False),
        sa.Column("skipped", sa.BigInteger(), nullable=False),
        sa.Column("lead_time_sum", sa.Float(), nullable=False),
        sa.Column("lead_time_count", sa.BigInteger(), nullable=False),
        sa.Column("tasks_completed", sa.BigInteger(), nullable=False),
        sa.Column("completion_seconds_sum", sa.Float(), nullable=False),
        sa.Column("reviews_accepted", sa.BigInteger(), nullable=False),
        sa.Column("reviews_rejected", sa.BigInteger(), nullable=False),
        sa.Column("accepted_received", sa.BigInteger(), nullable=False),
        sa.Column("rejected_received", sa.BigInteger(), nullable=False),
        sa.Column("agreement_sum", sa.Float(), nullable=False),
        sa.Column("agreement_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "project_id", "user_id", "hour", name=op.f("pk_analytics_user_hours")
        ),
    )
    op.create_index(
        "ix_analytics_user_hours_project_id_hour",
        "analytics_user_hours",
        ["project_id", "hour"],
        unique=False,
    )
    op.create_table(
        "analytics_project_hours",
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("hour", _HOUR, nullable=False),
        sa.Column("agreement_sum", sa.Float(), nullable=False),
        sa.Column("agreement_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "hour", name=op.f("pk_analytics_project_hours")),
    )
    op.create_table(
        "analytics_annotation_facts",
        sa.Column("annotation_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("hour", _HOUR, nullable=False),
        sa.Column("was_cancelled", sa.Boolean(), nullable=False),
        sa.Column("lead_time", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("annotation_id", name=op.f("pk_analytics_annotation_facts")),
    )
    op.create_index(
        "ix_analytics_annotation_facts_project_id_task_id",
        "analytics_annotation_facts",
        ["project_id", "task_id"],
        unique=False,
    )
    op.create_table(
        "analytics_completion_facts",
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("annotation_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("hour", _HOUR, nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_analytics_completion_facts")),
    )
    op.create_index(
        op.f("ix_analytics_completion_facts_project_id"),
        "analytics_completion_facts",
        ["project_id"],
        unique=False,
    )
    op.create_table(
        "analytics_review_facts",
        sa.Column("review_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewer_id", sa.BigInteger(), nullable=False),
        sa.Column("annotator_id", sa.BigInteger(), nullable=False),
        sa.Column("hour", _HOUR, nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("as_of", _HOUR, nullable=False),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_analytics_review_facts")),
    )
    op.create_index(
        op.f("ix_analytics_review_facts_project_id"),
        "analytics_review_facts",
        ["project_id"],
        unique=False,
    )
    op.create_table(
        "analytics_agreement_facts",
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("hour", _HOUR, nullable=False),
        sa.Column("agreement", sa.Float(), nullable=False),
        sa.Column("annotator_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("as_of", _HOUR, nullable=False),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_analytics_agreement_facts")),
    )
    op.create_index(
        op.f("ix_analytics_agreement_facts_project_id"),
        "analytics_agreement_facts",
        ["project_id"],
        unique=False,
    )


def downgrade() -> None:
    for table in (
        "analytics_agreement_facts",
        "analytics_review_facts",
        "analytics_completion_facts",
        "analytics_annotation_facts",
        "analytics_project_hours",
        "analytics_user_hours",
        "processed_events",
    ):
        op.drop_table(table)

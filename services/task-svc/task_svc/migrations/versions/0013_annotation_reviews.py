"""Annotation reviews: the reviews, the review stream's locks, each annotation's verdict
and each task's review counters

The new columns have constant defaults (no table rewrite on PostgreSQL 11+); existing
annotations are unreviewed, so every counter starts at its default.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 20:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "annotation_reviews",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("annotation_id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewer_id", sa.BigInteger(), nullable=False),
        sa.Column("annotator_id", sa.BigInteger(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("previous_result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotations.id"],
            name=op.f("fk_annotation_reviews_annotation_id_annotations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_annotation_reviews_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation_reviews")),
    )
    op.create_index(
        "ix_annotation_reviews_annotation_id_id", "annotation_reviews", ["annotation_id", "id"]
    )
    op.create_index(
        "ix_annotation_reviews_task_id_reviewer_id",
        "annotation_reviews",
        ["task_id", "reviewer_id"],
    )
    op.create_index(
        "ix_annotation_reviews_project_id_id", "annotation_reviews", ["project_id", "id"]
    )
    op.create_table(
        "annotation_review_locks",
        sa.Column("annotation_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewer_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotations.id"],
            name=op.f("fk_annotation_review_locks_annotation_id_annotations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("annotation_id", name=op.f("pk_annotation_review_locks")),
    )
    op.create_index(
        "ix_annotation_review_locks_reviewer_id",
        "annotation_review_locks",
        ["reviewer_id", "project_id"],
    )
    op.add_column("annotations", sa.Column("review_status", sa.String(length=32), nullable=True))
    op.add_column("annotations", sa.Column("review_comment", sa.Text(), nullable=True))
    op.create_index(
        "ix_annotations_project_id_unreviewed",
        "annotations",
        ["project_id", "id"],
        postgresql_where=sa.text("review_status IS NULL AND NOT was_cancelled"),
    )
    for name in ("reviews_accepted", "reviews_rejected"):
        op.add_column(
            "tasks", sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        op.create_index(
            f"ix_tasks_project_id_{name}",
            "tasks",
            ["project_id", name, "id"],
            postgresql_where=sa.text(f"{name} > 0"),
        )
    op.add_column(
        "tasks",
        sa.Column("reviewed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_index(
        "ix_tasks_project_id_reviewed",
        "tasks",
        ["project_id", "id"],
        postgresql_where=sa.text("reviewed"),
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_project_id_reviewed", table_name="tasks")
    op.drop_column("tasks", "reviewed")
    for name in ("reviews_rejected", "reviews_accepted"):
        op.drop_index(f"ix_tasks_project_id_{name}", table_name="tasks")
        op.drop_column("tasks", name)
    op.drop_index("ix_annotations_project_id_unreviewed", table_name="annotations")
    op.drop_column("annotations", "review_comment")
    op.drop_column("annotations", "review_status")
    op.drop_index("ix_annotation_review_locks_reviewer_id", table_name="annotation_review_locks")
    op.drop_table("annotation_review_locks")
    op.drop_index("ix_annotation_reviews_project_id_id", table_name="annotation_reviews")
    op.drop_index("ix_annotation_reviews_task_id_reviewer_id", table_name="annotation_reviews")
    op.drop_index("ix_annotation_reviews_annotation_id_id", table_name="annotation_reviews")
    op.drop_table("annotation_reviews")

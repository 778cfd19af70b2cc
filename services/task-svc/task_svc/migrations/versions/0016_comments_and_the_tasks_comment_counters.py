"""comments, and the tasks' comment counters the data manager filters on

Adding NOT NULL columns with a constant default is a catalog change on PostgreSQL 11+,
and the counters' indexes are partial (above zero), so a large tasks table costs little.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 20:15:12.852391
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("annotation_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("region_ref", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("is_resolved", sa.Boolean(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotations.id"],
            name=op.f("fk_comments_annotation_id_annotations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_comments_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    op.create_index("ix_comments_annotation_id", "comments", ["annotation_id"], unique=False)
    op.create_index("ix_comments_project_id_id", "comments", ["project_id", "id"], unique=False)
    op.create_index("ix_comments_task_id_id", "comments", ["task_id", "id"], unique=False)
    op.add_column(
        "tasks", sa.Column("comment_count", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "tasks",
        sa.Column("unresolved_comment_count", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "tasks", sa.Column("last_comment_updated_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_tasks_project_id_comment_count",
        "tasks",
        ["project_id", "comment_count", "id"],
        unique=False,
        postgresql_where=sa.text("comment_count > 0"),
    )
    op.create_index(
        "ix_tasks_project_id_unresolved_comment_count",
        "tasks",
        ["project_id", "unresolved_comment_count", "id"],
        unique=False,
        postgresql_where=sa.text("unresolved_comment_count > 0"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_tasks_project_id_unresolved_comment_count",
        table_name="tasks",
        postgresql_where=sa.text("unresolved_comment_count > 0"),
    )
    op.drop_index(
        "ix_tasks_project_id_comment_count",
        table_name="tasks",
        postgresql_where=sa.text("comment_count > 0"),
    )
    op.drop_column("tasks", "last_comment_updated_at")
    op.drop_column("tasks", "unresolved_comment_count")
    op.drop_column("tasks", "comment_count")
    op.drop_index("ix_comments_task_id_id", table_name="comments")
    op.drop_index("ix_comments_project_id_id", table_name="comments")
    op.drop_index("ix_comments_annotation_id", table_name="comments")
    op.drop_table("comments")

"""task_assignments: who is to annotate or review which task

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-05 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_assignments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("assigned_by_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "task_id", "user_id", "kind", name="uq_task_assignments_task_user_kind"
        ),
    )
    op.create_index(
        "ix_task_assignments_queue",
        "task_assignments",
        ["project_id", "user_id", "kind", "task_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_task_assignments_queue", table_name="task_assignments")
    op.drop_table("task_assignments")

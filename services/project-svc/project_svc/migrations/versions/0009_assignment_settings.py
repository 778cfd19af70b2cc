"""projects: assignment settings (task distribution, per-person cap, reservation timeout)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "projects",
        sa.Column(
            "label_stream_task_distribution",
            sa.String(32),
            nullable=False,
            server_default="auto_distribution",
        ),
    )
    op.alter_column("projects", "label_stream_task_distribution", server_default=None)
    op.add_column("projects", sa.Column("max_tasks_per_person", sa.Integer(), nullable=True))
    op.add_column("projects", sa.Column("reservation_timeout_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("projects", "reservation_timeout_seconds")
    op.drop_column("projects", "max_tasks_per_person")
    op.drop_column("projects", "label_stream_task_distribution")

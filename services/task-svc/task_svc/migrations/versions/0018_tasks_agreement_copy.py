"""Each task's agreement copied onto `tasks`, with a partial ordering index

The data manager filters and orders by agreement; ordering through a per-row subquery on
`task_agreements` sorted every matching task (about 4 s at 1M tasks). The new column is
NULL by default (no table rewrite); tasks already scored get their value from
`task_agreements` in one UPDATE.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("agreement", sa.Float(), nullable=True))
    op.execute(
        "UPDATE tasks SET agreement = task_agreements.agreement FROM task_agreements "
        "WHERE task_agreements.task_id = tasks.id AND task_agreements.agreement IS NOT NULL"
    )
    op.create_index(
        "ix_tasks_project_id_agreement",
        "tasks",
        ["project_id", "agreement", "id"],
        postgresql_where=sa.text("agreement IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_project_id_agreement", table_name="tasks")
    op.drop_column("tasks", "agreement")

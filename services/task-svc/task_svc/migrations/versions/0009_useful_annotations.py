"""tasks.useful_annotations: Label Studio's useful annotations (not skipped, not ground truth)

The project's `useful_annotation_number` counted every finished annotation; Label Studio
leaves out ground truth. Each task now keeps its own count, and the projects' counters
are recomputed from them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 14:10:00.000000
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
        "tasks",
        sa.Column("useful_annotations", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.execute(
        """
        UPDATE tasks SET useful_annotations = counted.useful
        FROM (
            SELECT task_id, count(*) AS useful FROM annotations
            WHERE NOT was_cancelled AND NOT ground_truth
            GROUP BY task_id
        ) AS counted
        WHERE counted.task_id = tasks.id
        """
    )
    op.execute(
        """
        UPDATE project_counters SET useful_annotation_number = coalesce(
            (SELECT sum(useful_annotations) FROM tasks
             WHERE tasks.project_id = project_counters.project_id), 0)
        """
    )


def downgrade() -> None:
    op.drop_column("tasks", "useful_annotations")

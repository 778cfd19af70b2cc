"""the file-upload and source-key lookups index only the tasks that have one

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 23:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PARTIAL = {
    "ix_tasks_file_upload_id": (["file_upload_id"], "file_upload_id IS NOT NULL"),
    "ix_tasks_project_id_source_key": (["project_id", "source_key"], "source_key IS NOT NULL"),
}


def upgrade() -> None:
    for name, (columns, where) in _PARTIAL.items():
        op.drop_index(name, table_name="tasks")
        op.create_index(
            name,
            "tasks",
            columns,
            unique=False,
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    for name, (columns, _where) in _PARTIAL.items():
        op.drop_index(name, table_name="tasks")
        op.create_index(name, "tasks", columns, unique=False)

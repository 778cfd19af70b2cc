"""data-field entries get a narrow (index_id, filter_text) index for counts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 03:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_data_field_entries_filter_counts",
        "data_field_entries",
        ["index_id", "filter_text"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_data_field_entries_filter_counts", table_name="data_field_entries")

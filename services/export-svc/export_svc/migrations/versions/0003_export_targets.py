"""snapshots written to an export storage

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("exports", sa.Column("target_storage_id", sa.BigInteger(), nullable=True))
    op.add_column("exports", sa.Column("target_status", sa.String(length=16), nullable=True))
    op.add_column("exports", sa.Column("target_uri", sa.String(length=2048), nullable=True))
    op.add_column("exports", sa.Column("target_error", sa.Text(), nullable=True))
    op.add_column(
        "exports", sa.Column("target_written_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("exports", "target_written_at")
    op.drop_column("exports", "target_error")
    op.drop_column("exports", "target_uri")
    op.drop_column("exports", "target_status")
    op.drop_column("exports", "target_storage_id")

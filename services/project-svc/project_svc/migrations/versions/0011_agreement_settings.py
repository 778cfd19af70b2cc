"""projects: agreement_threshold and agreement_iou_threshold

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-05 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("projects", sa.Column("agreement_threshold", sa.Float(), nullable=True))
    op.add_column(
        "projects",
        sa.Column(
            "agreement_iou_threshold", sa.Float(), nullable=False, server_default=sa.text("0.5")
        ),
    )


def downgrade() -> None:
    op.drop_column("projects", "agreement_iou_threshold")
    op.drop_column("projects", "agreement_threshold")

"""projects.annotators_see_others_annotations (roles: annotation visibility)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 20:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "projects",
        sa.Column(
            "annotators_see_others_annotations",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
        ),
    )
    op.alter_column("projects", "annotators_see_others_annotations", server_default=None)


def downgrade() -> None:
    op.drop_column("projects", "annotators_see_others_annotations")

"""organizations.invite_token and session_policies: invites and the session timeout policy

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("organizations", sa.Column("invite_token", sa.String(64), nullable=True))
    op.create_unique_constraint(
        op.f("uq_organizations_invite_token"), "organizations", ["invite_token"]
    )
    op.create_table(
        "session_policies",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("max_session_age", sa.Integer(), nullable=False),
        sa.Column("max_time_between_activity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_session_policies_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_session_policies")),
    )


def downgrade() -> None:
    op.drop_table("session_policies")
    op.drop_constraint(op.f("uq_organizations_invite_token"), "organizations", type_="unique")
    op.drop_column("organizations", "invite_token")

"""project_members: the projects annotators and reviewers see

Until now every member of an organization saw all of its projects. So that nobody loses
work they were doing, each existing annotator and reviewer becomes a member of each
existing project of their organization; from now on, managers admit them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 14:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["added_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "user_id", name="uq_project_members_project_user"),
    )
    op.create_index("ix_project_members_user_id", "project_members", ["user_id"])
    op.execute(
        """
        INSERT INTO project_members (project_id, user_id, created_at)
        SELECT projects.id, memberships.user_id, now()
        FROM projects
        JOIN memberships ON memberships.organization_id = projects.organization_id
        WHERE memberships.role IN ('annotator', 'reviewer')
        """
    )


def downgrade() -> None:
    op.drop_index("ix_project_members_user_id", table_name="project_members")
    op.drop_table("project_members")

"""task_agreements and task_agreement_pairs: agreement kept on write

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_agreements",
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("agreement", sa.Float(), nullable=True),
        sa.Column("annotations_count", sa.Integer(), nullable=False),
        sa.Column("controls", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_task_agreements_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_task_agreements")),
    )
    op.create_index(
        "ix_task_agreements_project_id_agreement",
        "task_agreements",
        ["project_id", "agreement"],
    )
    op.create_index(
        "ix_task_agreements_needs_review",
        "task_agreements",
        ["project_id", "task_id"],
        postgresql_where=sa.text("needs_review"),
    )
    op.create_table(
        "task_agreement_pairs",
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("annotator_a", sa.BigInteger(), nullable=False),
        sa.Column("annotator_b", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("controls", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_task_agreement_pairs_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "task_id", "annotator_a", "annotator_b", name=op.f("pk_task_agreement_pairs")
        ),
    )
    op.create_index(
        "ix_task_agreement_pairs_project_pair",
        "task_agreement_pairs",
        ["project_id", "annotator_a", "annotator_b"],
    )


def downgrade() -> None:
    op.drop_table("task_agreement_pairs")
    op.drop_table("task_agreements")

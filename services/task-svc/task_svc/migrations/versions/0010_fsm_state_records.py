"""FSM state records: one row per state change of a task, an annotation or a project

Each task and each project's counters also keep the state last recorded (`fsm_state`),
so a writer compares against it without reading the history. Existing rows get none: their
state is inferred from their counters until it next changes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fsm_state_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entity_name", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=50), nullable=False),
        sa.Column("previous_state", sa.String(length=50), nullable=True),
        sa.Column("transition_name", sa.String(length=100), nullable=True),
        sa.Column("triggered_by_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("context_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fsm_state_records")),
    )
    op.create_index(
        "ix_fsm_state_records_entity",
        "fsm_state_records",
        ["entity_name", "entity_id", "id"],
        unique=False,
    )
    # A nullable column without a default: added without rewriting either table.
    op.add_column("tasks", sa.Column("fsm_state", sa.String(length=50), nullable=True))
    op.add_column("project_counters", sa.Column("fsm_state", sa.String(length=50), nullable=True))


def downgrade() -> None:
    op.drop_column("project_counters", "fsm_state")
    op.drop_column("tasks", "fsm_state")
    op.drop_index("ix_fsm_state_records_entity", table_name="fsm_state_records")
    op.drop_table("fsm_state_records")

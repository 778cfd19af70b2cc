"""data-field indexes: definitions, entries, and the triggers on tasks that keep them

The tables (the models describe them), the function that computes an entry and the
triggers on tasks that keep the entries current. See `task_svc/fieldindexes/` for the locking protocol the triggers take part in.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 23:43:47.258929
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_field_indexes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("filter_key", sa.String(length=255), nullable=False),
        sa.Column("order_key", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_field_indexes")),
    )
    with op.batch_alter_table("data_field_indexes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_data_field_indexes_project_id_keys",
            ["project_id", "filter_key", "order_key"],
            unique=True,
        )

    op.create_table(
        "data_field_entries",
        sa.Column("index_id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("filter_text", sa.Text(), nullable=True),
        sa.Column(
            "order_value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("is_exact", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["index_id"],
            ["data_field_indexes.id"],
            name=op.f("fk_data_field_entries_index_id_data_field_indexes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("index_id", "task_id", name=op.f("pk_data_field_entries")),
    )
    with op.batch_alter_table("data_field_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_data_field_entries_index_id_filter_text",
            ["index_id", "filter_text", "order_value", "task_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_data_field_entries_inexact",
            ["index_id"],
            unique=False,
            postgresql_where=sa.text("NOT is_exact"),
        )

    for statement in _POSTGRES_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in _POSTGRES_DOWNGRADE:
        op.execute(statement)
    with op.batch_alter_table("data_field_entries", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_data_field_entries_inexact",
            postgresql_where=sa.text("NOT is_exact"),
        )
        batch_op.drop_index("ix_data_field_entries_index_id_filter_text")

    op.drop_table("data_field_entries")
    with op.batch_alter_table("data_field_indexes", schema=None) as batch_op:
        batch_op.drop_index("ix_data_field_indexes_project_id_keys")

    op.drop_table("data_field_indexes")


#: Frozen copies: later revisions replace these functions, they never edit this file.
#: 1684628073 is the first key of the two-int advisory locks (its own key space: the
#: one-bigint locks of `labelops_common.db.advisory_xact_lock` never meet it); the second
#: is the project id folded into an int, so two projects may share a lock, never miss one.
_POSTGRES_UPGRADE = (
    # One row, always: SQL-language and declared to return a set, so the planner inlines
    # it into the INSERT ... SELECT of a million tasks instead of calling it per row.
    """
    CREATE FUNCTION data_field_entry(data jsonb, filter_key text, order_key text)
    RETURNS TABLE (filter_text text, order_value jsonb, is_exact boolean)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN ok THEN f END, CASE WHEN ok THEN o END, ok
        FROM (
            SELECT f, o,
                (f IS NULL OR length(f) <= 300)
                AND (o IS NULL OR (
                    jsonb_typeof(o) IN ('string', 'number', 'boolean', 'null')
                    AND coalesce(length(o #>> '{}'), 0) <= 300
                )) AS ok
            FROM (
                SELECT
                    CASE WHEN filter_key <> '' THEN
                        jsonb_extract_path_text(data, VARIADIC string_to_array(filter_key, '.'))
                    END AS f,
                    CASE WHEN order_key <> '' THEN
                        jsonb_extract_path(data, VARIADIC string_to_array(order_key, '.'))
                    END AS o
            ) AS extracted
        ) AS checked
    $$
    """,
    """
    CREATE FUNCTION data_field_entries_write() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock_shared(1684628073, (NEW.project_id % 2147483647)::integer);
        INSERT INTO data_field_entries AS e (index_id, task_id, filter_text, order_value, is_exact)
        SELECT d.id, NEW.id, v.filter_text, v.order_value, v.is_exact
        FROM data_field_indexes AS d
        CROSS JOIN LATERAL data_field_entry(NEW.data, d.filter_key, d.order_key) AS v
        WHERE d.project_id = NEW.project_id AND d.state IN ('building', 'ready')
        ON CONFLICT (index_id, task_id) DO UPDATE
            SET filter_text = EXCLUDED.filter_text,
                order_value = EXCLUDED.order_value,
                is_exact = EXCLUDED.is_exact
            WHERE (e.filter_text, e.order_value, e.is_exact)
                IS DISTINCT FROM (EXCLUDED.filter_text, EXCLUDED.order_value, EXCLUDED.is_exact);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION data_field_entries_forget() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        projects bigint[];
        project bigint;
    BEGIN
        SELECT array_agg(DISTINCT project_id ORDER BY project_id) INTO projects
        FROM deleted_tasks;
        IF projects IS NULL THEN
            RETURN NULL;
        END IF;
        FOREACH project IN ARRAY projects LOOP
            PERFORM pg_advisory_xact_lock_shared(1684628073, (project % 2147483647)::integer);
        END LOOP;
        IF NOT EXISTS (SELECT 1 FROM data_field_indexes WHERE project_id = ANY (projects)) THEN
            RETURN NULL;
        END IF;
        DELETE FROM data_field_entries AS e
        USING deleted_tasks AS t
        WHERE e.task_id = t.id
            AND e.index_id IN (SELECT id FROM data_field_indexes WHERE project_id = ANY (projects));
        RETURN NULL;
    END
    $$
    """,
    # Bulk writers (COPY) set labelops.bulk_task_writes and write the entries of their
    # tasks in one statement at the end; the WHEN keeps the trigger from even firing.
    """
    CREATE TRIGGER data_field_entries_on_insert AFTER INSERT ON tasks
    FOR EACH ROW
    WHEN (current_setting('labelops.bulk_task_writes', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION data_field_entries_write()
    """,
    """
    CREATE TRIGGER data_field_entries_on_update AFTER UPDATE OF data ON tasks
    FOR EACH ROW
    WHEN (
        OLD.data IS DISTINCT FROM NEW.data
        AND current_setting('labelops.bulk_task_writes', true) IS DISTINCT FROM 'on'
    )
    EXECUTE FUNCTION data_field_entries_write()
    """,
    """
    CREATE TRIGGER data_field_entries_on_delete AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS deleted_tasks
    FOR EACH STATEMENT
    EXECUTE FUNCTION data_field_entries_forget()
    """,
)

_POSTGRES_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS data_field_entries_on_delete ON tasks",
    "DROP TRIGGER IF EXISTS data_field_entries_on_update ON tasks",
    "DROP TRIGGER IF EXISTS data_field_entries_on_insert ON tasks",
    "DROP FUNCTION IF EXISTS data_field_entries_forget()",
    "DROP FUNCTION IF EXISTS data_field_entries_write()",
    "DROP FUNCTION IF EXISTS data_field_entry(jsonb, text, text)",
)

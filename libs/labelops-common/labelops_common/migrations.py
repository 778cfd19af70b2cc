"""Alembic helpers: one migration history per service, run once before serving.

Each service keeps `migrations/` (env.py + versions/) inside its package; env.py calls
`run_migrations_in_env`, and the CLI's `labelops migrate` calls `upgrade_to_head`.
Every service has its own version table, so services may share one PostgreSQL database
in a small install without their histories colliding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text

from labelops_common.db import UTCDateTime, create_db_engine

#: Arbitrary but fixed key for PostgreSQL's advisory lock, so two migration runs never race.
_MIGRATION_LOCK_KEY = 0x1AB310


def version_table_for(service_name: str) -> str:
    return "alembic_version_" + service_name.replace("-", "_")


def alembic_config(*, script_location: Path, database_url: str, service_name: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["service_name"] = service_name
    return config


def upgrade_to_head(*, script_location: Path, database_url: str, service_name: str) -> None:
    command.upgrade(
        alembic_config(
            script_location=script_location, database_url=database_url, service_name=service_name
        ),
        "head",
    )


def _render_item(type_: str, obj: Any, _autogen_context: Any) -> str | Literal[False]:
    """Render our column types as plain SQLAlchemy ones, so revisions import nothing of ours."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_in_env(target_metadata: MetaData) -> None:
    """The body of every service's `migrations/env.py` (online mode only)."""
    config = context.config
    service_name = config.attributes.get("service_name", "labelops")
    url = config.get_main_option("sqlalchemy.url") or ""
    engine = create_db_engine(url)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                version_table=version_table_for(service_name),
                compare_type=True,
                render_item=_render_item,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
            connection.commit()
    engine.dispose()

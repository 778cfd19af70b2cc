"""task-svc's declarative base: every table of this service hangs off its metadata."""

import logging

from labelops_common.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, Database
from sqlalchemy import BigInteger, Integer, MetaData, text
from sqlalchemy.orm import DeclarativeBase

logger = logging.getLogger(__name__)

#: 64-bit ids on PostgreSQL (a million-task project reaches billions of rows over time);
#: plain INTEGER on SQLite, whose rowid autoincrement only works for that type.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


def vacuum_analyze(database: Database, table: str) -> None:
    """`VACUUM (ANALYZE) <table>` on PostgreSQL after a bulk write: it marks the new pages
    all-visible (index-only scans then skip the heap) and gives the planner the new sizes.
    Best effort: a failure is logged, the write it follows stays done."""
    if database.engine.dialect.name != "postgresql":
        return
    try:
        with database.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text(f"VACUUM (ANALYZE) {table}")
            )
    except Exception:
        logger.exception("VACUUM (ANALYZE) failed", extra={"table": table})

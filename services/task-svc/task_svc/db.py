"""task-svc's declarative base: every table of this service hangs off its metadata."""

import logging

from labelops_common.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, Database
from sqlalchemy import BigInteger, Engine, MetaData, text
from sqlalchemy.orm import DeclarativeBase

logger = logging.getLogger(__name__)

#: 64-bit ids (a million-task project reaches billions of rows over time).
BigId = BigInteger()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


def vacuum_analyze(database: Database, table: str) -> None:
    """`VACUUM (ANALYZE) <table>` after a bulk write: it marks the new pages
    all-visible (index-only scans then skip the heap) and gives the planner the new sizes.
    Best effort: a failure is logged, the write it follows stays done."""
    try:
        with database.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text(f"VACUUM (ANALYZE) {table}")
            )
    except Exception:
        logger.exception("VACUUM (ANALYZE) failed", extra={"table": table})


#: A bulk write that adds this share of a table's rows, as its statistics last counted them,
#: is followed by an ANALYZE (autovacuum would do the same, but up to a minute later).
ANALYZE_AFTER_GROWTH = 0.1


def analyze_if_grown(engine: Engine, table: str, *, added: int) -> bool:
    """`ANALYZE (SKIP_LOCKED) <table>` after a committed bulk write that grew it
    by a tenth or more, or if it was never analyzed; returns whether it ran.

    Until then the planner plans against the old sizes: in a project just imported into a
    new table, the label stream's next-task query ran its per-task probes over every open
    task instead of walking the id index to the first twenty (0.5 s instead of 1 ms at 10k).
    Skips the table if a VACUUM or ANALYZE holds it. Best effort: a failure is logged.
    """
    if added <= 0:
        return False
    try:
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            known = connection.scalar(
                text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)"),
                {"table": table},
            )
            if known is not None and known >= 0 and added < ANALYZE_AFTER_GROWTH * known:
                return False
            connection.execute(text(f"ANALYZE (SKIP_LOCKED) {table}"))
            return True
    except Exception:
        logger.exception("ANALYZE failed", extra={"table": table})
        return False

"""Database connection errors per service, counted where SQLAlchemy sees them.

A pool that cannot connect (or loses its connections) is the failure an operator must hear
about first; `labelops_db_connection_errors_total` counts exactly those, and query errors
(constraint violations and the like) separately, so the alert does not fire on bad input.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter
from sqlalchemy import Engine, event

DB_CONNECTION_ERRORS = Counter(
    "labelops_db_connection_errors_total",
    "Failures to connect to the database, and connections lost mid-use.",
    ["service"],
)
DB_QUERY_ERRORS = Counter(
    "labelops_db_query_errors_total",
    "Database errors on an open connection that did not lose it.",
    ["service"],
)


def observe_database_errors(engine: Engine, *, service: str) -> None:
    """Count the engine's errors under `service` (call once per engine)."""
    connection_errors = DB_CONNECTION_ERRORS.labels(service)
    query_errors = DB_QUERY_ERRORS.labels(service)

    def count(context: Any) -> None:
        # `connection` is None when the error happened while first connecting.
        if context.connection is None or context.is_disconnect:
            connection_errors.inc()
        else:
            query_errors.inc()

    event.listen(engine, "handle_error", count)

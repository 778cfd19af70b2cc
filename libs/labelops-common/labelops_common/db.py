"""Database engine and sessions, the same way for every service.

Each service owns one PostgreSQL database (on the embedded server in single-process mode,
on an external one in production) and one `Database` object; handlers, gRPC servicers and jobs all
get sessions from it, so they share one commit discipline: the caller commits.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database could not be reached or dropped the connection
    (restarting, failing over, shutting down) rather than refusing the statement: the
    caller may retry, so requests answer 503 and RPCs UNAVAILABLE, not a server error."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    import psycopg2

    if isinstance(original, psycopg2.InterfaceError):
        return True  # "connection already closed"
    if not isinstance(original, psycopg2.OperationalError):
        return False
    # No SQLSTATE: the client lost or could not open the connection. Class 08 is a
    # connection exception, 57P01-57P03 the server shutting down or not yet accepting.
    code = original.pgcode or ""
    return code == "" or code.startswith("08") or code in {"57P01", "57P02", "57P03"}


#: Constraint names fixed by convention, so Alembic migrations are stable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as UTC; a naive value is taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def advisory_xact_lock(session: Session, name: str) -> None:
    """Wait for the database-wide lock called `name`, held until the transaction ends.

    For start-up work that every replica or process runs (creating the admin user): the
    first does it, the others wait and then find it done.
    """
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def json_type() -> Any:
    """JSONB: indexable, and what every JSON column of every service uses."""
    return JSONB()


#: Every service's `Base` uses these, so datetimes are aware on every backend.
TYPE_ANNOTATION_MAP: dict[Any, Any] = {datetime: UTCDateTime()}


def create_db_engine(url: str, *, pool_size: int = 5) -> Engine:
    """A PostgreSQL engine with a bounded pool whose idle connections are checked."""
    if not url.startswith("postgresql"):
        raise ValueError(
            f"LabelOps runs on PostgreSQL only; got a {url.split(':', 1)[0]!r} database URL"
        )
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)
    ping_idle_connections(engine)
    return engine


#: A pooled connection unused for this long is checked before it is handed out.
PING_AFTER_IDLE_SECONDS = 10.0


def ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection with a round trip only if it sat idle in the pool.

    What kills pooled connections (a database restart or failover, a proxy's idle timeout)
    strikes idle ones; a connection back in use within seconds needs no check. SQLAlchemy's
    `pool_pre_ping` would check every checkout: a round trip per request, about a tenth of
    a busy write endpoint's cost. A dead connection found here is replaced by the pool
    (`DisconnectionError`); one that dies while busy fails its request, and SQLAlchemy
    then drops every connection of the pool older than it.
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("an idle pooled connection is gone") from error
        if not alive:
            raise DisconnectionError("an idle pooled connection is gone")


_RETURNED_AT = "labelops_returned_at"


class Database:
    """One service's engine and session factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 5) -> Database:
        return cls(create_db_engine(url, pool_size=pool_size))

    def new_session(self) -> Session:
        return self._sessionmaker()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that rolls back whatever the caller did not commit."""
        session = self._sessionmaker()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def bind_to_connection(self, connection: Connection) -> None:
        """Route every session through `connection` inside savepoints (test isolation)."""
        self._sessionmaker = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

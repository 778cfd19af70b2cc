"""The embedded queue: kombu's SQLAlchemy transport on a database of the embedded PostgreSQL.

`make run` needs a durable queue without a broker to install. kombu's SQLAlchemy transport
keeps messages in two tables of a database of the embedded PostgreSQL, so queued work
survives a restart; consumers take a message with `SELECT ... FOR UPDATE`, so several
server processes can share it. Two things it does not do, handled here and by the job rows:

- it polls (every `POLLING_SECONDS` when idle) instead of being woken up;
- a taken message is only marked invisible, never acknowledged or redelivered: a job whose
  process died is sent again by the stale-job sweeper from its row, and the invisible rows
  are deleted by `purge_delivered_messages`, which every sweeper runs.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

logger = logging.getLogger(__name__)

#: Scheme prefix of the transport.
SCHEME = "sqla+"
#: How long an idle consumer waits before asking its queues again (kombu's default is 1 s,
#: which an interactive import would feel).
POLLING_SECONDS = 0.2
#: kombu's table of messages (`kombu.transport.sqlalchemy`'s default name).
MESSAGE_TABLE = "kombu_message"


def is_embedded_queue(broker_url: str) -> bool:
    return broker_url.startswith(SCHEME)


def configure_transport() -> None:
    """Set up kombu's SQLAlchemy transport for the embedded queue (it serves nothing else).

    - Poll every `POLLING_SECONDS`. The `polling_interval` transport option cannot be used:
      this transport hands every option to `create_engine`, which refuses it.
    - Create a queue's row safely when several processes declare it at once (the first
      start of `make run --processes N`): kombu guards it with a lock of one process only,
      so a second process's insert fails on the unique name and its worker stops.
    """
    from kombu.transport import sqlalchemy

    sqlalchemy.Transport.polling_interval = POLLING_SECONDS
    sqlalchemy.Channel._get_or_create = _get_or_create_queue  # type: ignore[method-assign]


def _get_or_create_queue(channel: Any, queue: str) -> Any:
    model = channel.queue_cls
    found = channel.session.query(model).filter(model.name == queue).first()
    if found is not None:
        return found
    channel.session.add(model(queue))
    try:
        channel.session.commit()
    except (IntegrityError, OperationalError):
        # Another process created it between our look and our insert (or the database
        # blinked): take the row that is there.
        channel.session.rollback()
    return channel.session.query(model).filter(model.name == queue).one()


def create_tables(broker_url: str) -> None:
    """Create the transport's tables from one process, before several would race to (each
    process's kombu creates them on first use, and two `CREATE TABLE`s at once fail)."""
    from kombu import Connection
    from kombu.transport.sqlalchemy import Channel

    configure_transport()
    with Connection(broker_url) as connection:
        connection.default_channel.session  # noqa: B018 - opening it creates the tables
    for engine, _ in Channel._engines.values():
        engine.dispose()


def purge_delivered_messages(broker_url: str) -> int:
    """Delete the messages consumers have taken; returns how many."""
    engine = create_engine(broker_url.removeprefix(SCHEME))
    try:
        with engine.begin() as connection:
            exists = connection.execute(
                text("SELECT to_regclass(:table) IS NOT NULL"), {"table": MESSAGE_TABLE}
            ).scalar_one()
            if not exists:
                return 0
            result = connection.execute(
                text(f"DELETE FROM {MESSAGE_TABLE} WHERE NOT visible")  # noqa: S608 - a constant
            )
            return int(result.rowcount or 0)
    finally:
        engine.dispose()

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

from sqlalchemy import create_engine, text

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


def set_polling_interval() -> None:
    """Poll every `POLLING_SECONDS`. kombu's `polling_interval` transport option cannot be
    used: this transport hands every option to `create_engine`, which refuses it; so the
    transport's own default is set instead (it serves only the embedded queue)."""
    from kombu.transport import sqlalchemy

    sqlalchemy.Transport.polling_interval = POLLING_SECONDS


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

"""Dependencies every service's handlers share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from labelops_common.audit.record import RequestOrigin, bind_request_origin
from labelops_common.db import Database


async def get_db_session(request: Request) -> AsyncIterator[Session]:
    """A session from the service's own database; handlers commit explicitly.

    Async so FastAPI does not hand its set-up and tear-down to the thread pool, two thread
    switches per request: opening a session does no I/O, and neither does closing one that
    holds no connection (after a commit). Only a rollback or a connection's return to the
    pool talks to the database, and goes to a thread.
    """
    database: Database = request.app.state.database
    session = database.new_session()
    # Audit entries recorded in this session say which request and address they came from.
    bind_request_origin(
        session,
        RequestOrigin(
            request_id=request.headers.get("x-request-id"),
            client_ip=request.client.host if request.client else None,
        ),
    )
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_rollback_and_close, session)
        raise
    if session.in_transaction():
        await run_in_threadpool(session.close)
    else:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_db_session)]

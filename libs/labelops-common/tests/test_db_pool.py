"""Pooled PostgreSQL connections: checked after sitting idle, not on every checkout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from labelops_common import db
from labelops_testing.databases import scratch_database_url
from sqlalchemy import Engine, create_engine, text


@pytest.fixture()
def engine() -> Iterator[Engine]:
    with scratch_database_url("pool") as url:
        engine = db.create_db_engine(url, pool_size=1)
        try:
            yield engine
        finally:
            engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _count_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    real = engine.dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        pings.append(1)
        return bool(real(dbapi_connection))

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return pings


def test_a_connection_back_in_use_at_once_is_not_pinged(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _count_pings(engine, monkeypatch)
    pids = {_backend_pid(engine) for _ in range(5)}
    assert len(pids) == 1  # one pooled connection, reused
    assert pings == []
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    for _ in range(3):
        _backend_pid(engine)
    assert len(pings) == 3


def test_an_idle_connection_that_died_is_replaced_before_use(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(engine)
    admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            assert connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": first}
            ).scalar_one()
    finally:
        admin.dispose()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    # The checkout finds the dead connection and the pool hands out a new one.
    second = _backend_pid(engine)
    assert second != first

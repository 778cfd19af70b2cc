"""The events tests' worker: a LabelOps Celery app consuming `events` in this process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery import _state as celery_state
from labelops_common import events
from labelops_common.queue import create_celery_app, start_embedded_worker
from labelops_testing.databases import scratch_database_url


@pytest.fixture()
def worker() -> Iterator[None]:
    """As `labelops serve` runs it: on kombu's SQLAlchemy transport over PostgreSQL, the
    broker of `make run` (a scratch database here)."""
    previous = celery_state.default_app
    # The app made below becomes the current one too; later modules must not send through it.
    previous_current = getattr(celery_state._tls, "current_app", None)
    with scratch_database_url("events_broker") as broker_database_url:
        app = create_celery_app(
            name="labelops-events-test",
            broker_url=f"sqla+{broker_database_url}",
            queues=[events.EVENTS_QUEUE],
        )
        app.set_default()
        running = start_embedded_worker(app, queues=[events.EVENTS_QUEUE], concurrency=2)
        try:
            yield
        finally:
            running.stop(timeout=15)
            celery_state.set_default_app(previous)
            celery_state._set_current_app(previous_current)


@pytest.fixture(autouse=True)
def only_this_test_s_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Services register their event handlers when imported, and pytest imports every test
    module (and so every service) before the first test runs: these tests see only the
    handlers they register themselves."""
    monkeypatch.setattr(events, "_HANDLERS", {})

"""The events fixtures: a real embedded Celery worker delivering to an in-process inbox."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from celery import _state as celery_state
from labelops_common import events
from labelops_common.events import Event, event_handler, unregister_handler
from labelops_common.queue import create_celery_app, start_embedded_worker
from labelops_testing.databases import scratch_database_url


class Inbox:
    """Every event a handler in this process received."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def handle(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def wait_for(self, name: str, *, project_id: int, count: int = 1) -> list[Event]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = self.of(name, project_id=project_id)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.of(name, project_id=project_id)

    def of(self, name: str, *, project_id: int) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.name == name and e.project_id == project_id]


#: The running test's inbox (a fresh one per test, so no test sees another's events).
_current: list[Inbox] = []


def record_task_svc_event(event: Event) -> None:
    if _current:
        _current[-1].handle(event)


@pytest.fixture()
def inbox(stack) -> Iterator[Inbox]:
    """The Celery app and embedded worker `labelops serve --target all` would run, its
    queue in a PostgreSQL database of its own.

    The app is made the process default so request threads of the HTTP server find it.
    """
    with scratch_database_url("task-events-broker") as broker_database:
        yield from _inbox(stack, broker_url=f"sqla+{broker_database}")


def _inbox(stack, *, broker_url: str) -> Iterator[Inbox]:
    previous = celery_state.default_app
    app = create_celery_app(
        name="labelops",
        broker_url=broker_url,
        queues=list(stack.task_runtime.queues),
    )
    app.set_default()
    assert events.EVENTS_QUEUE in stack.task_runtime.queues
    event_handler(events.ALL_EVENTS)(record_task_svc_event)
    worker = start_embedded_worker(app, queues=[events.EVENTS_QUEUE], concurrency=1)
    inbox = Inbox()
    _current.append(inbox)
    try:
        yield inbox
    finally:
        worker.stop(timeout=15)
        _current.remove(inbox)
        unregister_handler(record_task_svc_event)
        celery_state.set_default_app(previous)

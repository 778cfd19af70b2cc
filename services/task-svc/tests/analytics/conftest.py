"""Analytics fixtures: the Celery app and embedded worker `labelops serve --target all`
runs (its broker a PostgreSQL database of its own), so events travel the real path from
commit to handler; and helpers to write through the API and to wait for the handlers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import task_svc.analytics.jobs  # noqa: F401 - registers the handlers, as a worker does
from celery import Celery
from celery import _state as celery_state
from labelops_common import events
from labelops_common.queue import create_celery_app, start_embedded_worker
from labelops_testing.actors import Actor
from labelops_testing.databases import scratch_database_url
from sqlalchemy import text

RESULT = [
    {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


@pytest.fixture(scope="module")
def celery_app(stack) -> Iterator[Celery]:
    """One broker and worker per module (starting a worker costs seconds)."""
    previous = celery_state.default_app
    # Events earlier tests committed without a broker are dropped now, not sent to this
    # module's worker (the outbox holds them up to `events_linger_seconds`).
    events.flush_sent_events()
    with scratch_database_url("analytics-broker") as broker_database:
        app = create_celery_app(
            name="labelops",
            broker_url=f"sqla+{broker_database}",
            queues=list(stack.task_runtime.queues),
        )
        app.set_default()
        worker = start_embedded_worker(app, queues=[events.EVENTS_QUEUE], concurrency=1)
        try:
            yield app
        finally:
            events.flush_sent_events()
            worker.stop(timeout=15)
            celery_state.set_default_app(previous)


@dataclass
class Writer:
    """Writes through task-svc's REST API as the given actors."""

    client: Any

    def task(self, actor: Actor, project_id: int) -> int:
        answer = self.client.post(
            "/api/tasks",
            json={"project": project_id, "data": {"text": "hi"}},
            headers=actor.headers,
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def annotate(
        self, actor: Actor, task_id: int, *, lead_time: float | None = None, skip: bool = False
    ) -> int:
        body: dict[str, Any] = {"result": [] if skip else RESULT, "was_cancelled": skip}
        if lead_time is not None:
            body["lead_time"] = lead_time
        answer = self.client.post(
            f"/api/tasks/{task_id}/annotations", json=body, headers=actor.headers
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])


@pytest.fixture()
def writer(client) -> Writer:
    return Writer(client)


def wait_until(check: Callable[[], Any], *, timeout: float = 30.0) -> Any:
    """Poll until `check()` returns a truthy value (the handlers run in the worker)."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value and time.monotonic() < deadline:
        time.sleep(0.1)
        value = check()
    return value


def handled(stack, handler_suffix: str) -> int:
    """How many events a task-svc analytics handler has applied."""
    with stack.task_runtime.database.session() as session:
        return int(
            session.scalar(
                text("SELECT count(*) FROM processed_events WHERE handler LIKE :name"),
                {"name": f"%analytics.jobs.{handler_suffix}"},
            )
            or 0
        )

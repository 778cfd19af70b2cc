"""PostgreSQL restarted while 8 clients annotate: every annotation answered with a 2xx is
stored afterwards, every other request was told it failed (a 503, promptly, never a hang),
and once the server is back the writes succeed again.

The stack's databases live on a PostgreSQL cluster of this test's own (the embedded one of
`make run`, listening on loopback), so the shared test server is never restarted.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from labelops_common.embedded_postgres import EmbeddedPostgres
from labelops_common.settings import SERVICE_NAMES
from labelops_runtime.suite import free_loopback_port
from labelops_testing.databases import embedded_data_dir

from .conftest import AUTH, Api, choice_result, running_stack

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CLIENTS = 8
#: Seconds of annotating before the restart, with the server down, and after it is back.
BEFORE_SECONDS = 3.0
DOWN_SECONDS = 3.0
AFTER_SECONDS = 6.0
#: A request answering later than this counts as a hang.
REQUEST_TIMEOUT_SECONDS = 20.0


@dataclass
class World:
    api: Api
    postgres: EmbeddedPostgres


def database_name(service: str) -> str:
    return service.replace("-", "_")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with embedded_data_dir() as data_dir:
        postgres = EmbeddedPostgres(data_dir, port=free_loopback_port())
        postgres.start(databases=[database_name(name) for name in SERVICE_NAMES])
        try:
            urls = {name: postgres.url(database_name(name)) for name in SERVICE_NAMES}
            with running_stack(
                tmp_path_factory.mktemp("postgres-restarted"), database_urls=urls
            ) as stack:
                yield World(api=Api(stack), postgres=postgres)
        finally:
            postgres.stop()


@dataclass
class Outcome:
    """One client's requests: each (status or exception name, seconds, annotation id)."""

    answers: list[tuple[int | str, float, int | None, float]] = field(default_factory=list)


def annotate_until(stop: threading.Event, url: str, task_id: int, outcome: Outcome) -> None:
    body = {"result": [choice_result("Positive")]}
    with httpx.Client(base_url=url, headers=AUTH, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        while not stop.is_set():
            started = time.monotonic()
            try:
                response = client.post(f"/api/tasks/{task_id}/annotations", json=body)
            except httpx.HTTPError as error:
                outcome.answers.append(
                    (type(error).__name__, time.monotonic() - started, None, started)
                )
                continue
            annotation_id = response.json()["id"] if response.status_code == 201 else None
            outcome.answers.append(
                (response.status_code, time.monotonic() - started, annotation_id, started)
            )
            time.sleep(0.05)


def test_acknowledged_annotations_survive_a_postgres_restart(world: World) -> None:
    api = world.api
    project_id = api.project("Restart")
    task_ids = api.tasks(project_id, [f"task {n}" for n in range(CLIENTS)])
    outcomes = [Outcome() for _ in task_ids]
    stop = threading.Event()
    url = api.stack.service_url("task-svc")
    clients = [
        threading.Thread(target=annotate_until, args=(stop, url, task_id, outcome))
        for task_id, outcome in zip(task_ids, outcomes, strict=True)
    ]
    for client in clients:
        client.start()
    try:
        time.sleep(BEFORE_SECONDS)
        world.postgres.stop()
        down_at = time.monotonic()
        time.sleep(DOWN_SECONDS)
        world.postgres.start()
        back_at = time.monotonic()
        time.sleep(AFTER_SECONDS)
    finally:
        stop.set()
        for client in clients:
            client.join(REQUEST_TIMEOUT_SECONDS + 5)

    statuses: Counter[int | str] = Counter(a[0] for o in outcomes for a in o.answers)
    slowest = max(a[1] for o in outcomes for a in o.answers)
    print(f"answers: {dict(statuses)}; slowest {slowest:.2f} s")
    # Every request was answered (no transport error, no hang), with a 201 or a 503 that
    # tells the client to retry.
    assert set(statuses) <= {201, 503}, statuses
    assert statuses[201] > 0
    assert any(a[0] != 201 for o in outcomes for a in o.answers if down_at <= a[3] < back_at)
    # Every acknowledged annotation is stored, and nothing else.
    for task_id, outcome in zip(task_ids, outcomes, strict=True):
        acknowledged = sorted(a[2] for a in outcome.answers if a[2] is not None)
        stored = api.call("task-svc", "GET", f"/api/tasks/{task_id}/annotations")
        assert stored.status_code == 200, stored.text
        assert sorted(a["id"] for a in stored.json()) == acknowledged, task_id
    # Once the server is back, writes succeed again within a few seconds.
    late: list[Any] = [
        a[0] for o in outcomes for a in o.answers if a[3] > back_at + AFTER_SECONDS / 2
    ]
    assert late and set(late) == {201}, Counter(late)

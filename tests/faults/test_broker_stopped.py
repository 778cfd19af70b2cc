"""The broker (a Redis server of this test's own) stopped for 30 s: every service keeps
answering reads and writes, and once Redis is back on the same port the work queued during
the outage runs and events are delivered again.

What a write does while the broker is down is documented where it happens:
- a job (`JobHandle.send`) is logged as not sent and its row stays `queued`; the worker's
  stale-job sweep sends it again once it waited `job_queued_grace_seconds`;
- an event waits in its process's outbox (`labelops_common.events._Outbox`), which tries
  again until the broker answers: the change is saved, the request answers as usual, and the
  webhook arrives after the outage (none is dropped).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from labelops_testing import emulators
from labelops_testing.receivers import WebhookReceiver, webhook_receiver

from .conftest import Api, running_stack, timed, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

OUTAGE_SECONDS = 30.0
PASSWORD = "broker-fault-password-0123456789"
#: Short, so that a job sent into the outage is sent again within the test.
SWEEP_ENV = {
    "LABELOPS_JOB_SWEEP_INTERVAL_SECONDS": "2",
    "LABELOPS_JOB_QUEUED_GRACE_SECONDS": "5",
    # The webhook receiver listens on loopback.
    "LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
}
#: An answer during the outage takes at most this long (no request waits for the broker).
PROMPT_SECONDS = 5.0


@dataclass
class Broker:
    """The Redis server; `stop` and `start` it again on the same port."""

    work_dir: Path
    port: int
    servers: ExitStack

    @property
    def url(self) -> str:
        return f"redis://:{PASSWORD}@127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.servers.close()

    def start(self) -> None:
        self.servers = ExitStack()
        self.servers.enter_context(
            emulators.redis_server(self.work_dir, password=PASSWORD, port=self.port)
        )


@dataclass
class World:
    api: Api
    broker: Broker
    receiver: WebhookReceiver


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("broker-stopped")
    servers = ExitStack()
    _, port = servers.enter_context(emulators.redis_server(tmp / "redis", password=PASSWORD))
    broker = Broker(work_dir=tmp / "redis", port=port, servers=servers)
    try:
        with (
            webhook_receiver() as receiver,
            running_stack(tmp / "stack", broker_url=broker.url, extra_env=SWEEP_ENV) as stack,
        ):
            yield World(api=Api(stack), broker=broker, receiver=receiver)
    finally:
        broker.stop()


def queued_import(api: Api, project_id: int, count: int, tag: str) -> int:
    """An import over task-svc's synchronous limit (1 KiB in the stack): a Celery job."""
    body = [{"text": f"{tag} {number} " + "x" * 100} for number in range(count)]
    answer = api.call("task-svc", "POST", f"/api/projects/{project_id}/import", json=body)
    assert answer.status_code == 201, answer.text
    import_id: int = answer.json()["import"]
    return import_id


def import_status(api: Api, project_id: int, import_id: int) -> str:
    answer = api.call("task-svc", "GET", f"/api/projects/{project_id}/imports/{import_id}")
    assert answer.status_code == 200, answer.text
    status: str = answer.json()["status"]
    return status


def delivered_annotation_ids(receiver: WebhookReceiver) -> set[int]:
    return {
        request.json()["annotation"]["id"]
        for request in list(receiver.requests)
        if request.json().get("action") == "ANNOTATION_CREATED"
    }


def metric_total(api: Api, name: str) -> float:
    """The sum of a counter's samples on task-svc's `/metrics`."""
    text = api.call("task-svc", "GET", "/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith((name + "{", name + " "))
    )


def test_requests_are_served_through_a_broker_outage_and_queued_work_resumes(
    world: World,
) -> None:
    api, broker, receiver = world.api, world.broker, world.receiver
    project_id = api.project("Broker outage")
    hook = api.call(
        "project-svc",
        "POST",
        "/api/webhooks",
        json={"project": project_id, "url": receiver.url, "send_for_all_actions": True},
    )
    assert hook.status_code == 201, hook.text
    task_ids = api.tasks(project_id, ["first", "second", "third"])
    # Before the outage: an import runs on the worker and an annotation reaches the webhook.
    before = queued_import(api, project_id, 20, "before")
    wait_for(lambda: import_status(api, project_id, before) == "completed", 60, "import")
    first = api.annotate(task_ids[0])
    assert first.status_code == 201, first.text
    wait_for(lambda: first.json()["id"] in delivered_annotation_ids(receiver), 30, "webhook")
    dropped_before = metric_total(api, "labelops_events_dropped_total")

    broker.stop()
    calls: dict[str, Callable[[], httpx.Response]] = {
        "project": lambda: api.call("project-svc", "GET", f"/api/projects/{project_id}"),
        "tasks": lambda: api.call("task-svc", "GET", f"/api/tasks?project={project_id}"),
        "exports": lambda: api.call("export-svc", "GET", f"/api/projects/{project_id}/exports"),
        "ml": lambda: api.call("ml-gateway", "GET", f"/api/ml?project={project_id}"),
        "storages": lambda: api.call("storage-sync", "GET", f"/api/storages?project={project_id}"),
        "annotate": lambda: api.annotate(task_ids[1]),
        "import": lambda: api.call(
            "task-svc",
            "POST",
            f"/api/projects/{project_id}/import",
            json=[{"text": f"during {number} " + "y" * 100} for number in range(20)],
        ),
    }
    statuses: Counter[tuple[str, int]] = Counter()
    slowest: dict[str, float] = {}
    annotated_during: list[int] = []
    imports_during: list[int] = []
    outage_started = time.monotonic()
    while time.monotonic() - outage_started < OUTAGE_SECONDS:
        for name, call in calls.items():
            response, seconds = timed(call)
            statuses[(name, response.status_code)] += 1
            slowest[name] = max(slowest.get(name, 0.0), round(seconds, 2))
            assert response.status_code < 300, (name, response.status_code, response.text)
            if name == "annotate":
                annotated_during.append(response.json()["id"])
            elif name == "import":
                imports_during.append(response.json()["import"])
        time.sleep(1.0)
    print("during the outage:", dict(statuses), "slowest:", slowest)
    assert max(slowest.values()) < PROMPT_SECONDS, slowest
    # The jobs sent into the outage wait, queued; the events wait in the outbox.
    assert {import_status(api, project_id, i) for i in imports_during} == {"created"}
    assert metric_total(api, "labelops_events_send_failures_total") > 0
    assert not delivered_annotation_ids(receiver) & set(annotated_during)

    broker.start()
    after = queued_import(api, project_id, 20, "after")
    every_import = [*imports_during, after]
    worker = api.stack.worker

    def all_completed() -> bool:
        return all(import_status(api, project_id, i) == "completed" for i in every_import)

    wait_for(all_completed, 60, "the imports queued during the outage did not complete", worker)
    listed = api.call("task-svc", "GET", f"/api/tasks?project={project_id}&page_size=1000")
    texts = [task["data"]["text"].split(" ")[0] for task in listed.json()["tasks"]]
    assert Counter(texts) == {
        "first": 1,
        "second": 1,
        "third": 1,
        "before": 20,
        "during": 20 * len(imports_during),
        "after": 20,
    }
    # Every annotation acknowledged during the outage is stored.
    stored = api.call("task-svc", "GET", f"/api/tasks/{task_ids[1]}/annotations").json()
    assert sorted(a["id"] for a in stored) == sorted(annotated_during)
    # Events flow again: those of the outage arrive, and a new annotation's too.
    wait_for(
        lambda: delivered_annotation_ids(receiver) >= set(annotated_during),
        60,
        "the webhooks of the annotations made during the outage",
        worker,
    )
    assert metric_total(api, "labelops_events_dropped_total") == dropped_before
    last = api.annotate(task_ids[2])
    assert last.status_code == 201, last.text
    wait_for(
        lambda: last.json()["id"] in delivered_annotation_ids(receiver),
        30,
        "the webhook of an annotation made after the outage",
        worker,
    )
    summary: dict[str, Any] = {"imports_during": len(imports_during)}
    summary["annotations_during"] = len(annotated_during)
    print(json.dumps(summary))

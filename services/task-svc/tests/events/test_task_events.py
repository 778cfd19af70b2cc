"""task-svc's events end to end: a write through the REST API or the bulk RPC commits, then
a real embedded Celery worker delivers the event to the handlers registered for it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from celery import _state as celery_state
from labelops.task.v1 import task_pb2, task_pb2_grpc
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


RESULT = [
    {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


def _task(client, cast, project_id: int) -> int:
    answer = client.post(
        "/api/tasks",
        json={"project": project_id, "data": {"text": "hi"}},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    task_id: int = answer.json()["id"]
    return task_id


def test_annotation_writes_through_the_api_emit_their_events(
    client, cast, make_project, inbox
) -> None:
    project_id = make_project()
    task_id = _task(client, cast, project_id)
    (created_task,) = inbox.wait_for(events.TASKS_CREATED, project_id=project_id)
    assert created_task.payload == {
        "task_count": 1,
        "first_task_id": task_id,
        "last_task_id": task_id,
        "task_ids": [task_id],
    }

    answer = client.post(
        f"/api/tasks/{task_id}/annotations",
        json={"result": RESULT},
        headers=cast.annotator.headers,
    )
    assert answer.status_code == 201, answer.text
    annotation_id = answer.json()["id"]
    (created,) = inbox.wait_for(events.ANNOTATION_CREATED, project_id=project_id)
    assert created.payload == {
        "annotation_id": annotation_id,
        "task_id": task_id,
        "project_id": project_id,
    }

    answer = client.patch(
        f"/api/annotations/{annotation_id}",
        json={"result": RESULT, "lead_time": 2.5},
        headers=cast.annotator.headers,
    )
    assert answer.status_code == 200, answer.text
    (updated,) = inbox.wait_for(events.ANNOTATION_UPDATED, project_id=project_id)
    assert updated.payload["annotation_id"] == annotation_id

    answer = client.delete(f"/api/annotations/{annotation_id}", headers=cast.owner.headers)
    assert answer.status_code == 204, answer.text
    (deleted,) = inbox.wait_for(events.ANNOTATIONS_DELETED, project_id=project_id)
    assert deleted.payload == {"annotation_ids": [annotation_id], "task_id": task_id}

    answer = client.delete(f"/api/tasks/{task_id}", headers=cast.owner.headers)
    assert answer.status_code == 204, answer.text
    (gone,) = inbox.wait_for(events.TASKS_DELETED, project_id=project_id)
    assert gone.payload["task_count"] == 1 and gone.payload["task_ids"] == [task_id]


def test_a_refused_write_emits_nothing(client, cast, make_project, inbox) -> None:
    project_id = make_project()
    task_id = _task(client, cast, project_id)
    bad = [{**RESULT[0], "value": {"choices": ["Not a label"]}}]
    answer = client.post(
        f"/api/tasks/{task_id}/annotations", json={"result": bad}, headers=cast.owner.headers
    )
    assert answer.status_code == 400
    inbox.wait_for(events.TASKS_CREATED, project_id=project_id)
    time.sleep(0.5)
    assert inbox.of(events.ANNOTATION_CREATED, project_id=project_id) == []


def test_bulk_create_emits_one_tasks_created_with_counts_not_every_id(
    stack, make_project, inbox
) -> None:
    project_id = make_project()
    batches: list[Any] = [
        task_pb2.TaskBatch(
            project_id=project_id,
            idempotency_key="events-test",
            tasks=[
                task_pb2.Task(data_json=json.dumps({"text": f"{b}-{n}"}).encode())
                for n in range(100)
            ],
        )
        for b in range(3)
    ]
    with grpc.insecure_channel(stack.task_grpc_address) as channel:
        stub = task_pb2_grpc.TaskServiceStub(channel)
        summary = stub.BulkCreateTasks(iter(batches))
        (event,) = inbox.wait_for(events.TASKS_CREATED, project_id=project_id)
        assert event.payload == {
            "task_count": 300,
            "first_task_id": min(summary.task_ids),
            "last_task_id": max(summary.task_ids),
        }
        # A retried stream creates nothing, so it announces nothing.
        stub.BulkCreateTasks(iter(batches))
        time.sleep(0.5)
        assert len(inbox.of(events.TASKS_CREATED, project_id=project_id)) == 1
        bad = [task_pb2.TaskBatch(project_id=project_id, tasks=[task_pb2.Task(data_json=b"[]")])]
        with pytest.raises(grpc.RpcError):
            stub.BulkCreateTasks(iter(bad))
        time.sleep(0.5)
        assert len(inbox.of(events.TASKS_CREATED, project_id=project_id)) == 1

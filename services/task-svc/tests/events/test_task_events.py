"""task-svc's events end to end: a write through the REST API or the bulk RPC commits, then
a real embedded Celery worker delivers the event to the handlers registered for it."""

from __future__ import annotations

import json
import time
from typing import Any

import grpc
import pytest
from labelops.task.v1 import task_pb2, task_pb2_grpc
from labelops_common import events

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

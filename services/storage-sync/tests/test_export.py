"""Export storages: task-svc's events (delivered by a real embedded Celery worker) write one
JSON object per annotated task; deletes follow `can_delete_objects`; a sync fills gaps."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery import _state as celery_state
from labelops_common import events
from labelops_common.queue import create_celery_app, start_embedded_worker
from labelops_testing.databases import scratch_database_url
from sqlalchemy import func, select, text
from storage_sync.storages.models import ExportedTask
from storage_sync.sync import exporting

from .conftest import Api, Db, Stack, s3_body

CAT = [
    {"from_name": "choice", "to_name": "image", "type": "choices", "value": {"choices": ["cat"]}}
]
DOG = [
    {"from_name": "choice", "to_name": "image", "type": "choices", "value": {"choices": ["dog"]}}
]


@pytest.fixture()
def worker(stack: Stack, sent: list[int]) -> Iterator[None]:
    """The `events` queue on a PostgreSQL broker, consumed by an embedded worker, as
    `labelops serve --target all` runs it."""
    with scratch_database_url("storage-events-broker") as broker_database:
        previous = celery_state.default_app
        app = create_celery_app(
            name="labelops", broker_url=f"sqla+{broker_database}", queues=[events.EVENTS_QUEUE]
        )
        app.set_default()
        running = start_embedded_worker(app, queues=[events.EVENTS_QUEUE], concurrency=1)
        try:
            yield
        finally:
            running.stop(timeout=15)
            celery_state.set_default_app(previous)


def eventually(check: Callable[[], Any], *, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def read_object(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    found: dict[str, Any] = json.loads(body)
    return found


def import_tasks(api: Api, project_id: int, count: int) -> list[int]:
    answer = api.stack.task.post(
        f"/api/projects/{project_id}/import?return_task_ids=true",
        json=[{"image": f"https://example.com/{n}.jpg"} for n in range(count)],
        headers=api.cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    ids: list[int] = answer.json()["task_ids"]
    return ids


def annotate(api: Api, task_id: int, result: list[dict[str, Any]]) -> int:
    answer = api.stack.task.post(
        f"/api/tasks/{task_id}/annotations", json={"result": result}, headers=api.cast.owner.headers
    )
    assert answer.status_code == 201, answer.text
    annotation_id: int = answer.json()["id"]
    return annotation_id


def test_annotations_saved_updated_and_deleted_reach_the_bucket(
    api: Api, worker: None, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    project_id = api.project()
    storage = api.create(
        "s3",
        s3_body(project_id, s3_endpoint, bucket, prefix="labels", can_delete_objects=True),
        export=True,
    )
    assert storage.status_code == 201, storage.text
    assert storage.json()["can_delete_objects"] is True
    (task_id,) = import_tasks(api, project_id, 1)
    key = f"labels/{task_id}.json"
    annotation_id = annotate(api, task_id, CAT)
    written = eventually(lambda: read_object(s3, bucket, key))
    assert written is not None, "the annotation was not exported"
    assert written["id"] == task_id
    assert written["data"] == {"image": "https://example.com/0.jpg"}
    assert [a["result"] for a in written["annotations"]] == [CAT]
    headers = api.cast.owner.headers
    patched = api.stack.task.patch(
        f"/api/annotations/{annotation_id}", json={"result": DOG}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    updated = eventually(
        lambda: (found := read_object(s3, bucket, key)) and found["annotations"][0]["result"] == DOG
    )
    assert updated, read_object(s3, bucket, key)
    deleted = api.stack.task.delete(f"/api/annotations/{annotation_id}", headers=headers)
    assert deleted.status_code == 204
    assert eventually(lambda: read_object(s3, bucket, key) is None)


def test_without_can_delete_objects_a_delete_leaves_the_object(
    api: Api, worker: None, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    project_id = api.project()
    api.create("s3", s3_body(project_id, s3_endpoint, bucket), export=True)
    (task_id,) = import_tasks(api, project_id, 1)
    annotation_id = annotate(api, task_id, CAT)
    assert eventually(lambda: read_object(s3, bucket, f"{task_id}.json"))
    api.stack.task.delete(f"/api/annotations/{annotation_id}", headers=api.cast.owner.headers)
    time.sleep(1.0)
    assert read_object(s3, bucket, f"{task_id}.json") is not None


def test_export_sync_writes_what_is_missing(
    api: Api, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    project_id = api.project()
    task_ids = import_tasks(api, project_id, 4)
    for task_id in task_ids[:3]:
        annotate(api, task_id, CAT)
    storage = api.create("s3", s3_body(project_id, s3_endpoint, bucket, prefix="out"), export=True)
    assert storage.status_code == 201, storage.text
    synced = api.sync("s3", storage.json()["id"], export=True)
    assert synced["status"] == "completed", synced
    assert synced["last_sync_count"] == 3
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="out/")
    assert sorted(item["Key"] for item in listed["Contents"]) == sorted(
        f"out/{task_id}.json" for task_id in task_ids[:3]
    )
    annotate(api, task_ids[3], CAT)
    again = api.sync("s3", storage.json()["id"], export=True)
    assert again["last_sync_count"] == 1


def _blocked_on_a_lock(db: Db, statement_start: str, *, timeout: float = 10.0) -> bool:
    """True once a session of storage-sync's database waits on a lock in a statement that
    starts with `statement_start` (each look is its own transaction: `pg_stat_activity` is
    read once per transaction)."""

    def waiting() -> int:
        with db.database.session() as session:
            return int(
                session.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE wait_event_type = 'Lock' AND query ILIKE :start"
                    ),
                    {"start": f"{statement_start}%"},
                )
                or 0
            )

    return bool(eventually(waiting, timeout=timeout))


def test_deleting_an_export_storage_while_its_objects_are_written_waits_for_the_writer(
    api: Api, db: Db, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    """An event batch rewrites one task's object and writes another's in one transaction;
    the storage's delete arrives between them. The delete waits for the batch to commit,
    then removes the storage and its records: neither side fails with a deadlock (the
    delete was answered 500 when it took the storage's row before the batch's second
    write)."""
    project_id = api.project()
    first, second = import_tasks(api, project_id, 2)
    for task_id in (first, second):
        annotate(api, task_id, CAT)
    created = api.create("s3", s3_body(project_id, s3_endpoint, bucket, prefix="out"), export=True)
    assert created.status_code == 201, created.text
    storage_id = created.json()["id"]
    resources = api.stack.storage_runtime.job_resources
    assert resources is not None
    with db.database.session() as earlier:  # the first task's object is written already
        exporting.export_task_changes(
            resources, earlier, project_id=project_id, task_id=first, deleted=False
        )
        earlier.commit()
    deleted: list[Any] = []
    with db.database.session() as batch:
        exporting.export_task_changes(
            resources, batch, project_id=project_id, task_id=first, deleted=False
        )
        deleting = threading.Thread(
            target=lambda: deleted.append(
                api.stack.storage.delete(
                    f"/api/storages/export/s3/{storage_id}", headers=api.cast.owner.headers
                )
            )
        )
        deleting.start()
        assert _blocked_on_a_lock(db, "DELETE FROM storages"), "the delete did not wait"
        written = exporting.export_task_changes(
            resources, batch, project_id=project_id, task_id=second, deleted=False
        )
        batch.commit()
    deleting.join(timeout=30)
    assert written == 1
    assert [answer.status_code for answer in deleted] == [204], [a.text for a in deleted]
    assert db.storages(project_id) == []
    with db.database.session() as session:
        left = session.scalar(
            select(func.count())
            .select_from(ExportedTask)
            .where(ExportedTask.storage_id == storage_id)
        )
    assert left == 0
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="out/")
    assert sorted(item["Key"] for item in listed["Contents"]) == sorted(
        [f"out/{first}.json", f"out/{second}.json"]
    )

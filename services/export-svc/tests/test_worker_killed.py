"""A `labelops worker` killed with SIGKILL in the middle of a snapshot, on a real Redis broker.

The worker is a separate process (`python -m labelops_runtime.cli worker --queues exports`),
reading tasks over gRPC from this test's task-svc and writing the file to the same data
dir. task-svc's stream is held after a few pages, so the kill lands while the job holds
its lease and part of the file is on disk; the job table's stale-job sweep then sends the
job again, as every worker's sweeper does, and a second worker writes the file. It must
hold every selected task exactly once, in order.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from export_svc.exports import jobs
from export_svc.exports.models import Export
from labelops_common.jobs import JobStatus, find_stale_jobs
from labelops_testing.databases import redis_url_with_free_db
from task_svc.bulk import service as bulk

from .conftest import SECRET, Cast, Seeder, Stack, span

pytestmark = pytest.mark.redis

#: Tasks in the project; the stream is held once this many pages of `BATCH` went out.
TASKS = 600
BATCH = 50
HELD_AFTER_PAGES = 8
#: The workers' job lease: the killed worker's runs out this fast.
LEASE_SECONDS = 2.0


class StreamGate:
    """Holds the first `StreamTasks` of the test after some pages until released."""

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.reached = threading.Event()
        self.release = threading.Event()
        self.streams = 0

    def wrap(self, original: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        def stream_task_pages(session: Any, query: Any) -> Iterator[Any]:
            self.streams += 1
            first = self.streams == 1
            for number, page in enumerate(original(session, query)):
                if first and number == self.pages:
                    self.reached.set()
                    self.release.wait(60)
                yield page

        return stream_task_pages


def start_worker(stack: Stack, broker: str, log_path: Path) -> subprocess.Popen[bytes]:
    database_url = stack.export_runtime.database.engine.url.render_as_string(hide_password=False)
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("LABELOPS_")},
        "LABELOPS_DATA_DIR": str(stack.common.data_dir),
        "LABELOPS_SECRET_KEY": SECRET,
        "LABELOPS_BROKER_URL": broker,
        "LABELOPS_GRPC_PEERS": json.dumps(dict(stack.common.grpc_peers)),
        "LABELOPS_EXPORT_SVC_DATABASE_URL": database_url,
        "LABELOPS_EXPORT_SVC_STREAM_BATCH_SIZE": str(BATCH),
        "LABELOPS_EXPORT_SVC_PROGRESS_INTERVAL_SECONDS": "0.1",
        "LABELOPS_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "LABELOPS_LOG_JSON": "false",
    }
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "labelops_runtime.cli",
                "worker",
                "--queues",
                "exports",
                "--pool",
                "solo",
                "--concurrency",
                "1",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_for(check: Callable[[], bool], seconds: float, what: str, log_path: Path) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {seconds}s; worker log:\n{log_path.read_text()}")
        time.sleep(0.1)


def export_row(stack: Stack, export_id: int) -> Export:
    with stack.export_runtime.database.session() as session:
        row = session.get(Export, export_id)
        assert row is not None
        return row


def test_a_snapshot_survives_its_worker_killed_mid_export(
    stack: Stack,
    cast: Cast,
    seeder: Seeder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sent: list[tuple[str, int]],
) -> None:
    project = seeder.project()
    filler = "x" * 1000  # so that the held stream has put bytes in the partial file
    task_ids = seeder.tasks(
        project, [{"text": f"Alice {number} {filler}"} for number in range(TASKS)]
    )
    annotated = task_ids[::10]
    for task_id in annotated:
        seeder.annotate(task_id, [span(0, 5, "Alice", "PER")])
    created = stack.export.post(
        f"/api/projects/{project}/exports",
        json={"task_filter_options": {"only_with_annotations": False}},
        headers=cast.owner.headers,
    )
    assert created.status_code == 201, created.text
    export_id = created.json()["id"]
    # The API's own message was captured (this process has no Celery app); the job is sent
    # below to the workers' broker (whose lease is short).
    assert sent == [(jobs.write_snapshot.name, export_id)]
    gate = StreamGate(HELD_AFTER_PAGES)
    monkeypatch.setattr(bulk, "stream_task_pages", gate.wrap(bulk.stream_task_pages))
    partial_dir = stack.common.data_dir / "exports" / str(project)

    broker = redis_url_with_free_db()
    log_path = tmp_path / "workers.log"

    def send(job_id: int) -> None:
        # Sent from a process of its own: a Celery app made in this process would stay
        # bound to the tasks later tests' stacks send through.
        script = (
            "import sys; from celery import Celery; "
            "Celery('export-test-publisher', broker=sys.argv[1]).send_task("
            "sys.argv[2], args=[int(sys.argv[3])], queue='exports')"
        )
        subprocess.run(
            [
                sys.executable,
                "-c",
                script,
                broker,
                jobs.write_snapshot.name,
                str(job_id),
            ],
            check=True,
            timeout=60,
        )

    first = start_worker(stack, broker, log_path)
    second: subprocess.Popen[bytes] | None = None
    try:
        send(export_id)
        wait_for(gate.reached.is_set, 60, "the worker never reached the held page", log_path)

        def partial_has_bytes() -> bool:
            return any(p.stat().st_size > 0 for p in partial_dir.glob(".*.partial"))

        wait_for(partial_has_bytes, 30, "no bytes reached the partial file", log_path)
        running = export_row(stack, export_id)
        assert running.status == JobStatus.RUNNING.value and running.attempts == 1
        assert running.lease_owner and f":{first.pid}:" in running.lease_owner
        assert running.total == TASKS and running.artifact_key is None

        first.send_signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
        gate.release.set()
        assert export_row(stack, export_id).status == JobStatus.RUNNING.value  # nobody finished it

        # The job table's sweep finds the job once the dead worker's lease has run out and
        # sends it again (other tests' stale rows share the table: only this one is sent).
        time.sleep(LEASE_SECONDS + 0.5)
        with stack.export_runtime.database.session() as session:
            assert export_id in find_stale_jobs(session, model=Export)
        send(export_id)
        second = start_worker(stack, broker, log_path)

        def finished() -> bool:
            return export_row(stack, export_id).status != JobStatus.RUNNING.value

        wait_for(finished, 90, "the redelivered snapshot did not finish", log_path)
    finally:
        gate.release.set()
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(30)
        client = redis.Redis.from_url(broker)
        client.flushdb()
        client.close()

    done = export_row(stack, export_id)
    assert done.status == JobStatus.SUCCEEDED.value, log_path.read_text()
    assert done.attempts == 2 and f":{first.pid}:" not in (done.lease_owner or "")
    assert done.counters == {"task_number": TASKS} and done.progress == done.total == TASKS
    assert done.artifact_key is not None
    stored = (stack.common.data_dir / done.artifact_key).read_bytes()
    assert hashlib.md5(stored, usedforsecurity=False).hexdigest() == done.md5
    assert len(stored) == done.size
    records = json.loads(stored)
    assert [record["id"] for record in records] == task_ids  # each task once, in order
    assert [record["id"] for record in records if record["annotations"]] == annotated
    assert all(record["data"]["text"].startswith("Alice ") for record in records)
    downloaded = stack.export.get(
        f"/api/projects/{project}/exports/{export_id}/download", headers=cast.owner.headers
    )
    assert downloaded.status_code == 200 and downloaded.content == stored

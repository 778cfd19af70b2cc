"""A running snapshot: its progress, cancelling it, byte ranges of its file, and retention.

Job messages are captured (the `sent` fixture) and the job bodies run here, as the
`exports` worker runs them; what a client sees is read over the API while they run.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from export_svc.exports import jobs
from export_svc.exports import service as exports
from export_svc.exports.models import Export
from labelops_common.db import utcnow
from labelops_common.jobs import JobStatus, register_job_resources
from sqlalchemy import update

from .conftest import Cast, Db, Seeded, Seeder, Stack, span


def create(stack: Stack, cast: Cast, project_id: int) -> int:
    answer = stack.export.post(
        f"/api/projects/{project_id}/exports", json={}, headers=cast.owner.headers
    )
    assert answer.status_code == 201, answer.text
    export_id: int = answer.json()["id"]
    return export_id


def shown(stack: Stack, cast: Cast, project_id: int, export_id: int) -> dict[str, Any]:
    answer = stack.export.get(
        f"/api/projects/{project_id}/exports/{export_id}", headers=cast.owner.headers
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.fixture()
def every_row(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The job reports after every record and never waits between two reports."""
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 1)
    original = stack.export_runtime.job_resources
    assert original is not None
    register_job_resources(dataclasses.replace(original, progress_interval_seconds=0.0))
    yield
    register_job_resources(original)


@pytest.fixture()
def ticks(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Hooks called with the row count at each progress report, before it is recorded."""
    hooks: list[Any] = []
    original = jobs.SnapshotProgress.tick

    def tick(self: jobs.SnapshotProgress, rows: int) -> None:
        for hook in hooks:
            hook(rows)
        original(self, rows)

    monkeypatch.setattr(jobs.SnapshotProgress, "tick", tick)
    return hooks


def test_a_running_snapshot_shows_tasks_written_of_total(
    stack: Stack,
    cast: Cast,
    ner_project: Seeded,
    sent: list[tuple[str, int]],
    every_row: None,
    ticks: list[Any],
) -> None:
    project = ner_project.project_id
    export_id = create(stack, cast, project)
    assert shown(stack, cast, project, export_id)["progress"] == {
        "tasks_written": 0,
        "tasks_total": None,
    }
    seen: list[dict[str, Any]] = []
    ticks.append(lambda _rows: seen.append(shown(stack, cast, project, export_id)))

    assert jobs.write_snapshot.run(export_id) == "succeeded"

    # What a client polling the snapshot saw: in progress, counting up to the project's 3.
    assert [body["status"] for body in seen] == ["in_progress"] * 3
    assert [body["progress"] for body in seen] == [
        {"tasks_written": 0, "tasks_total": 3},
        {"tasks_written": 1, "tasks_total": 3},
        {"tasks_written": 2, "tasks_total": 3},
    ]
    done = shown(stack, cast, project, export_id)
    assert done["status"] == "completed" and done["cancelled"] is False
    assert done["progress"] == {"tasks_written": 3, "tasks_total": 3}


def test_cancelling_a_running_snapshot_stops_its_job(
    stack: Stack,
    cast: Cast,
    ner_project: Seeded,
    db: Db,
    sent: list[tuple[str, int]],
    every_row: None,
    ticks: list[Any],
) -> None:
    project = ner_project.project_id
    export_id = create(stack, cast, project)
    answers: list[Any] = []

    def cancel_at_two(rows: int) -> None:
        if rows == 2:
            answers.append(
                stack.export.post(
                    f"/api/projects/{project}/exports/{export_id}/cancel",
                    headers=cast.owner.headers,
                )
            )

    ticks.append(cancel_at_two)
    parts = set(db.artifact(f"exports/{project}").rglob("*"))

    assert jobs.write_snapshot.run(export_id) == "cancelled"

    (answer,) = answers
    assert answer.status_code == 200, answer.text
    assert answer.json()["cancelled"] is True and answer.json()["status"] == "failed"
    (row,) = db.exports(project)
    assert row.status == JobStatus.CANCELLED.value and row.finished_at is not None
    assert row.progress == 1  # it stopped at the next report, having written no more
    assert row.artifact_key is None and row.md5 == "" and row.error is None
    # The aborted upload left nothing behind: no file, no partial file.
    assert set(db.artifact(f"exports/{project}").rglob("*")) == parts
    assert not db.artifact(exports.snapshot_key(row)).exists()
    download = stack.export.get(
        f"/api/projects/{project}/exports/{export_id}/download", headers=cast.owner.headers
    )
    assert download.status_code == 404
    # A redelivered message finds the row finished and does nothing.
    assert jobs.write_snapshot.run(export_id) == "skipped"


def test_cancel_a_queued_snapshot_and_the_refusals(
    stack: Stack, cast: Cast, ner_project: Seeded, db: Db, sent: list[tuple[str, int]]
) -> None:
    project = ner_project.project_id
    export_id = create(stack, cast, project)
    path = f"/api/projects/{project}/exports/{export_id}/cancel"
    assert stack.export.post(path, headers=cast.annotator.headers).status_code == 403
    assert stack.export.post(path, headers=cast.outsider.headers).status_code == 404
    assert stack.export.post(path).status_code == 401
    assert db.exports(project)[0].status == JobStatus.QUEUED.value

    assert stack.export.post(path, headers=cast.owner.headers).status_code == 200
    assert db.exports(project)[0].status == JobStatus.CANCELLED.value
    assert jobs.write_snapshot.run(export_id) == "skipped"

    again = stack.export.post(path, headers=cast.owner.headers)
    assert again.status_code == 400
    assert again.json()["validation_errors"] == {
        "status": ["The export is already failed: nothing to cancel."]
    }
    finished = create(stack, cast, project)
    assert jobs.write_snapshot.run(finished) == "succeeded"
    late = stack.export.post(
        f"/api/projects/{project}/exports/{finished}/cancel", headers=cast.owner.headers
    )
    assert late.status_code == 400
    assert late.json()["validation_errors"]["status"] == [
        "The export is already completed: nothing to cancel."
    ]
    assert db.exports(project)[1].status == JobStatus.SUCCEEDED.value


def test_a_snapshot_file_is_served_with_its_length_and_byte_ranges(
    stack: Stack, cast: Cast, ner_project: Seeded, db: Db, sent: list[tuple[str, int]]
) -> None:
    project = ner_project.project_id
    export_id = create(stack, cast, project)
    assert jobs.write_snapshot.run(export_id) == "succeeded"
    (row,) = db.exports(project)
    stored = db.artifact(row.artifact_key).read_bytes()
    path = f"/api/projects/{project}/exports/{export_id}/download"

    whole = stack.export.get(path, headers=cast.owner.headers)
    assert whole.status_code == 200 and whole.content == stored
    assert whole.headers["content-length"] == str(len(stored))
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "application/json"
    assert whole.headers["content-disposition"].startswith("attachment;")

    # A client resuming a broken download asks for the rest.
    rest = stack.export.get(path, headers={**cast.owner.headers, "Range": "bytes=100-"})
    assert rest.status_code == 206 and rest.content == stored[100:]
    assert rest.headers["content-range"] == f"bytes 100-{len(stored) - 1}/{len(stored)}"
    beyond = stack.export.get(
        path, headers={**cast.owner.headers, "Range": f"bytes={len(stored) + 10}-"}
    )
    assert beyond.status_code == 416


def test_retention_removes_old_finished_snapshots_with_their_files(
    stack: Stack,
    cast: Cast,
    seeder: Seeder,
    db: Db,
    sent: list[tuple[str, int]],
) -> None:
    project = seeder.project()
    (task,) = seeder.tasks(project, [{"text": "Alice"}])
    seeder.annotate(task, [span(0, 5, "Alice", "PER")])
    old, recent, old_running = (create(stack, cast, project) for _ in range(3))
    for export_id in (old, recent):
        assert jobs.write_snapshot.run(export_id) == "succeeded"
    converting = stack.export.post(
        f"/api/projects/{project}/exports/{old}/convert",
        json={"export_type": "CSV"},
        headers=cast.owner.headers,
    )
    assert converting.status_code == 200, converting.text
    assert jobs.convert_snapshot.run(converting.json()["converted_format"]) == "succeeded"
    old_files = [db.exports(project)[0].artifact_key, db.conversions(old)[0].artifact_key]
    assert all(key and db.artifact(key).exists() for key in old_files)
    with stack.export_runtime.database.session() as session:
        session.execute(
            update(Export)
            .where(Export.id.in_([old, old_running]))
            .values(created_at=utcnow() - timedelta(days=31))
        )
        session.execute(
            update(Export).where(Export.id == old_running).values(status=JobStatus.RUNNING.value)
        )
        session.commit()

    # The snapshot retention sweep, after the audit log retention every service has.
    *_, sweep = stack.export_runtime.sweeps
    assert sweep() == 1
    assert [row.id for row in db.exports(project)] == [recent, old_running]
    assert db.conversions(old) == []
    assert not any(db.artifact(key).exists() for key in old_files if key)
    recent_key = db.exports(project)[0].artifact_key
    assert recent_key and db.artifact(recent_key).exists()
    assert sweep() == 0


def test_the_sweep_removes_partial_files_of_dead_workers(stack: Stack) -> None:
    folder = stack.common.data_dir / "exports" / "987654"
    folder.mkdir(parents=True, exist_ok=True)
    abandoned = folder / ".12.json.0a1b.partial"
    writing = folder / ".13.json.2c3d.partial"
    finished = folder / "12.json"
    for path in (abandoned, writing, finished):
        path.write_bytes(b"[")
    day_ago = time.time() - 24 * 3600
    os.utime(abandoned, (day_ago, day_ago))
    os.utime(finished, (day_ago, day_ago))

    # The snapshot retention sweep, after the audit log retention every service has.
    *_, sweep = stack.export_runtime.sweeps
    assert sweep() >= 1
    assert not abandoned.exists()
    assert writing.exists() and finished.exists()  # still being written; a published file

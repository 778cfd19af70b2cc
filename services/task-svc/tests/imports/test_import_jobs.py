"""Large imports as queued jobs: `{"import": id}`, the job body, polling, idempotent re-runs."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from labelops_common.db import utcnow
from labelops_common.jobs import register_job_resources
from labelops_common.queue import app as queue_app
from sqlalchemy import select, text, update
from task_svc.audit.models import AuditEntry
from task_svc.imports import jobs
from task_svc.imports.models import ImportJob

TXT_CONFIG = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>
"""
CHOICE = [
    {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


@pytest.fixture()
def sent(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every import is queued (tiny threshold); messages are captured instead of sent."""
    captured: list[int] = []

    def capture(*args: Any, **_: Any) -> None:
        captured.append(int(args[0]))

    monkeypatch.setattr(jobs.import_tasks, "send", capture)
    settings = stack.task_runtime.http_app.state.settings
    monkeypatch.setattr(settings, "import_sync_max_bytes", 10)
    monkeypatch.setattr(settings, "import_batch_size", 2)
    built = stack.task_runtime.job_resources
    register_job_resources(
        dataclasses.replace(built, limits=dataclasses.replace(built.limits, batch_size=2))
    )
    try:
        yield captured
    finally:
        register_job_resources(built)


def _items(count: int) -> list[dict[str, Any]]:
    return [
        {"data": {"text": f"t{i}"}, "annotations": [{"result": CHOICE}]}
        if i % 2
        else {"text": f"t{i}"}
        for i in range(count)
    ]


def _audit_entries(stack: Any, project: int) -> list[AuditEntry]:
    with stack.task_runtime.database.session() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.project_id == project).order_by(AuditEntry.id)
            )
        )


def _status(stack: Any, cast: Any, project: int, job_id: int, who: str = "owner") -> Any:
    return stack.task.get(
        f"/api/projects/{project}/imports/{job_id}", headers=getattr(cast, who).headers
    )


def test_a_large_import_is_queued_then_run(
    stack: Any, cast: Any, make_project: Any, db: Any, data_dir: Any, sent: list[int]
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        f"/api/projects/{project}/import?return_task_ids=1",
        json=_items(5),
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    job_id = answer.json()["import"]
    assert sent == [job_id]
    assert db.task_count(project) == 0
    queued = _status(stack, cast, project, job_id).json()
    assert queued["status"] == "created" and queued["project"] == project
    assert queued["task_count"] == 0 and queued["finished_at"] is None
    [job] = db.jobs(project)
    [body_path] = job.payload["temporary_paths"]
    assert (data_dir / body_path).is_file()

    assert jobs.import_tasks.run(job_id) == "succeeded"
    done = _status(stack, cast, project, job_id).json()
    assert done["status"] == "completed" and done["error"] is None
    assert (done["task_count"], done["annotation_count"], done["prediction_count"]) == (5, 2, 0)
    assert done["task_ids"] == [task.id for task in db.tasks(project)]
    assert done["progress"] == 5 and done["total"] == 5
    assert done["finished_at"] is not None and done["return_task_ids"] is True
    assert db.counts(project)["task_number"] == 5
    assert db.counts(project)["total_annotations_number"] == 2
    assert not (data_dir / body_path).exists()

    # A redelivered message finds the job finished and does nothing.
    assert jobs.import_tasks.run(job_id) == "skipped"
    assert db.task_count(project) == 5
    # One audit entry, for the person who asked, committed with the tasks.
    [entry] = _audit_entries(stack, project)
    assert (entry.action, entry.object_id, entry.actor_id) == (
        "tasks.imported",
        str(job_id),
        cast.owner.user_id,
    )
    assert entry.changes["task_count"] == 5
    assert entry.actor_email == cast.owner.email


def test_a_job_rerun_after_a_crash_does_not_import_twice(
    stack: Any, cast: Any, make_project: Any, db: Any, sent: list[int]
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    job_id = stack.task.post(
        f"/api/projects/{project}/import", json=_items(3), headers=cast.owner.headers
    ).json()["import"]
    assert jobs.import_tasks.run(job_id) == "succeeded"
    # The worker died after committing the tasks but before marking the job finished.
    with stack.task_runtime.database.session() as session:
        session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(
                status="running",
                lease_owner="dead-worker",
                lease_expires_at=utcnow() - timedelta(minutes=5),
                finished_at=None,
            )
        )
        session.commit()
    assert jobs.import_tasks.run(job_id) == "succeeded"
    assert db.task_count(project) == 3
    assert db.counts(project)["task_number"] == 3
    assert [entry.action for entry in _audit_entries(stack, project)] == ["tasks.imported"]
    assert _status(stack, cast, project, job_id).json()["status"] == "completed"


def test_a_bad_item_fails_the_job_and_imports_nothing(
    stack: Any, cast: Any, make_project: Any, db: Any, data_dir: Any, sent: list[int]
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    items: list[Any] = _items(4)
    items[3] = {"nottext": "x"}
    job_id = stack.task.post(
        f"/api/projects/{project}/import", json=items, headers=cast.owner.headers
    ).json()["import"]
    [job] = db.jobs(project)
    assert jobs.import_tasks.run(job_id) == "failed"
    failed = _status(stack, cast, project, job_id).json()
    assert failed["status"] == "failed"
    assert failed["error"] == 'Error at item 3: "text" key is expected in task data'
    assert db.state(project) == {"tasks": 0, "annotations": 0, "predictions": 0, "file_uploads": 0}
    assert db.counts(project)["task_number"] == 0
    assert not (data_dir / job.payload["temporary_paths"][0]).exists()


def test_queued_multipart_upload(
    stack: Any, cast: Any, make_project: Any, db: Any, sent: list[int]
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        f"/api/projects/{project}/import",
        files={
            "file": ("big.csv", b"text\n" + b"".join(b"row %d\n" % i for i in range(7)), "text/csv")
        },
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    job_id = answer.json()["import"]
    assert db.state(project)["file_uploads"] == 1  # the upload is registered when queued
    assert jobs.import_tasks.run(job_id) == "succeeded"
    done = _status(stack, cast, project, job_id).json()
    assert done["task_count"] == 7 and done["found_formats"] == {".csv": 1}
    assert done["data_columns"] == ["text"] and len(done["file_upload_ids"]) == 1
    assert {task.file_upload_id for task in db.tasks(project)} == set(done["file_upload_ids"])
    assert done["task_ids"] is None  # not asked for


@pytest.mark.parametrize(
    ("who", "expected"), [("manager", 200), ("annotator", 403), ("outsider", 404)]
)
def test_import_status_permissions(
    stack: Any, cast: Any, make_project: Any, sent: list[int], who: str, expected: int
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    job_id = stack.task.post(
        f"/api/projects/{project}/import", json=_items(2), headers=cast.owner.headers
    ).json()["import"]
    assert _status(stack, cast, project, job_id, who).status_code == expected
    assert stack.task.get(f"/api/projects/{project}/imports/{job_id}").status_code == 401
    other = make_project(label_config=TXT_CONFIG)
    assert _status(stack, cast, other, job_id).status_code == 404


def test_inline_imports_are_recorded_as_completed_jobs(
    stack: Any, cast: Any, make_project: Any, db: Any
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        f"/api/projects/{project}/import", json=_items(3), headers=cast.owner.headers
    )
    assert answer.status_code == 201 and "import" not in answer.json()
    [job] = db.jobs(project)
    assert job.status == "succeeded" and job.progress == 3
    shown = _status(stack, cast, project, job.id).json()
    assert shown["status"] == "completed" and shown["task_count"] == 3


def test_without_a_broker_the_job_runs_in_a_thread(
    stack: Any, cast: Any, make_project: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_app, "labelops_celery_app", lambda: None)  # no broker
    settings = stack.task_runtime.http_app.state.settings
    monkeypatch.setattr(settings, "import_sync_max_bytes", 10)
    project = make_project(label_config=TXT_CONFIG)
    job_id = stack.task.post(
        f"/api/projects/{project}/import",
        content=json.dumps(_items(4)).encode(),
        headers={**cast.owner.headers, "Content-Type": "application/json"},
    ).json()["import"]
    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        status = _status(stack, cast, project, job_id).json()["status"]
        if status in ("completed", "failed"):
            break
        time.sleep(0.1)
    assert status == "completed"
    assert db.task_count(project) == 4


def test_the_sweeper_sends_a_lost_import_again(
    stack: Any, cast: Any, make_project: Any, db: Any, sent: list[int]
) -> None:
    """A queued job whose message was lost is sent again by the runtime's job sweep."""
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        f"/api/projects/{project}/import", json=_items(3), headers=cast.owner.headers
    )
    job_id = answer.json()["import"]
    assert sent == [job_id]
    [sweep] = [s for s in stack.task_runtime.stale_job_sweeps() if s.handle is jobs.import_tasks]
    sweep()
    assert sent.count(job_id) == 1  # queued moments ago: not stale yet
    with stack.task_runtime.database.session() as session:
        session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(updated_at=utcnow() - timedelta(minutes=10))
        )
        session.commit()
    assert sweep() >= 1
    assert sent.count(job_id) == 2
    assert jobs.import_tasks.run(job_id) == "succeeded"
    assert db.task_count(project) == 3


#: The id walk of "unlabeled, newest first" (datamanager.service.page_ids), a deep page.
ID_WALK = (
    "EXPLAIN (ANALYZE, COSTS OFF) SELECT id FROM tasks"
    " WHERE project_id = :project AND total_annotations = 0"
    " ORDER BY id DESC OFFSET 200 LIMIT 100"
)


def test_the_id_walk_reads_no_heap_after_a_large_import(
    stack: Any,
    cast: Any,
    make_project: Any,
    db: Any,
    sent: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a large import the data manager's id walks are index-only scans."""
    monkeypatch.setattr(jobs, "MAINTAIN_AFTER_TASKS", 1)
    monkeypatch.setattr(stack.task_runtime.http_app.state.settings, "import_batch_size", 500)
    project = make_project()
    answer = stack.task.post(
        f"/api/projects/{project}/import",
        json=[{"text": f"t{i}"} for i in range(1000)],
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    assert jobs.import_tasks.run(sent[0]) == "succeeded"
    assert db.task_count(project) == 1000
    with stack.task_runtime.database.session() as session:
        # A table this small would rather be sorted; the question is what the walk reads.
        session.execute(text("SET LOCAL enable_seqscan TO off"))
        session.execute(text("SET LOCAL enable_bitmapscan TO off"))
        plan = "\n".join(session.scalars(text(ID_WALK), {"project": project}))
    assert "Index Only Scan" in plan, plan
    assert re.search(r"Heap Fetches: 0\b", plan), plan

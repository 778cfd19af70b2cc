"""Snapshots: `POST /exports` queues a job, the job writes the file, then get, download, convert, delete.

Job messages are captured (the `sent` fixture) and the job bodies run here directly, as
the `exports` worker would run them; the embedded worker itself is exercised by the
cross-service SDK test.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta
from typing import Any

import grpc
import pytest
from export_svc.exports import jobs
from export_svc.exports.models import Export
from labelops.export.v1 import export_pb2, export_pb2_grpc
from labelops_common.db import utcnow
from labelops_common.jobs import JobStatus
from sqlalchemy import update

from .conftest import Cast, Db, Seeded, Seeder, Stack


def create(stack: Stack, cast: Cast, project_id: int, body: dict[str, Any] | None = None) -> Any:
    answer = stack.export.post(
        f"/api/projects/{project_id}/exports/", json=body or {}, headers=cast.owner.headers
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def get(
    stack: Stack, cast: Cast, project_id: int, export_id: int, suffix: str = "", **params: Any
) -> Any:
    return stack.export.get(
        f"/api/projects/{project_id}/exports/{export_id}{suffix}",
        params=params,
        headers=cast.owner.headers,
    )


def test_snapshot_lifecycle(
    stack: Stack, cast: Cast, ner_project: Seeded, db: Db, sent: list[tuple[str, int]]
) -> None:
    project = ner_project.project_id
    created = create(stack, cast, project, {"title": "weekly"})
    export_id = created["id"]
    assert created["status"] == "created" and created["title"] == "weekly"
    assert created["created_by"]["email"] == cast.owner.email
    assert created["counters"] == {} and created["converted_formats"] == []
    assert sent == [(jobs.write_snapshot.name, export_id)]
    (row,) = db.exports(project)
    assert row.status == JobStatus.QUEUED.value and row.artifact_key is None

    not_yet = get(stack, cast, project, export_id, "/download")
    assert not_yet.status_code == 404 and not_yet.json()["detail"] == "Export is not completed"

    assert jobs.write_snapshot.run(export_id) == "succeeded"
    (row,) = db.exports(project)
    assert row.status == JobStatus.SUCCEEDED.value and row.counters == {"task_number": 3}
    stored = db.artifact(row.artifact_key).read_bytes()
    assert hashlib.md5(stored, usedforsecurity=False).hexdigest() == row.md5

    shown = get(stack, cast, project, export_id).json()
    assert shown["status"] == "completed" and shown["md5"] == row.md5
    assert shown["counters"] == {"task_number": 3} and shown["finished_at"]

    as_json = get(stack, cast, project, export_id, "/download", exportType="JSON")
    assert as_json.status_code == 200 and as_json.content == stored
    assert row.md5[:8] in as_json.headers["content-disposition"]
    tasks = as_json.json()
    assert [task["id"] for task in tasks] == ner_project.task_ids
    assert [a["id"] for a in tasks[0]["annotations"]] == ner_project.annotation_ids[
        ner_project.task_ids[0]
    ]

    # Any other format is converted on the fly from the snapshot file.
    as_csv = get(stack, cast, project, export_id, "/download", exportType="CSV")
    assert as_csv.status_code == 200
    assert len(list(csv.DictReader(io.StringIO(as_csv.text)))) == 3

    converting = stack.export.post(
        f"/api/projects/{project}/exports/{export_id}/convert",
        json={"export_type": "JSON_MIN"},
        headers=cast.owner.headers,
    )
    assert converting.status_code == 200, converting.text
    converted_id = converting.json()["converted_format"]
    assert converting.json()["export_type"] == "JSON_MIN"
    assert sent[-1] == (jobs.convert_snapshot.name, converted_id)
    assert get(stack, cast, project, export_id).json()["converted_formats"] == [
        {"id": converted_id, "status": "created", "export_type": "JSON_MIN", "traceback": None}
    ]
    assert jobs.convert_snapshot.run(converted_id) == "succeeded"
    (conversion,) = db.conversions(export_id)
    assert conversion.status == JobStatus.SUCCEEDED.value
    assert (
        get(stack, cast, project, export_id).json()["converted_formats"][0]["status"] == "completed"
    )
    converted_file = db.artifact(conversion.artifact_key).read_bytes()
    served = get(stack, cast, project, export_id, "/download", exportType="JSON_MIN")
    assert served.content == converted_file and len(served.json()) == 3

    again = stack.export.post(
        f"/api/projects/{project}/exports/{export_id}/convert",
        json={"export_type": "JSON_MIN"},
        headers=cast.owner.headers,
    )
    assert again.status_code == 400 and "export_type" in again.json()["validation_errors"]

    second = create(stack, cast, project, {"title": "second"})
    listed = stack.export.get(f"/api/projects/{project}/exports", headers=cast.owner.headers).json()
    assert [item["id"] for item in listed] == [second["id"], export_id]  # newest first

    gone = stack.export.delete(
        f"/api/projects/{project}/exports/{export_id}", headers=cast.owner.headers
    )
    assert gone.status_code == 204
    assert [item.id for item in db.exports(project)] == [second["id"]]
    assert db.conversions(export_id) == []
    assert not db.artifact(row.artifact_key).exists()
    assert not db.artifact(conversion.artifact_key).exists()
    assert get(stack, cast, project, export_id).status_code == 404


def test_a_redelivered_job_does_no_double_work(
    stack: Stack, cast: Cast, ner_project: Seeded, db: Db, sent: list[tuple[str, int]]
) -> None:
    export_id = create(stack, cast, ner_project.project_id)["id"]
    assert jobs.write_snapshot.run(export_id) == "succeeded"
    (row,) = db.exports(ner_project.project_id)
    written = db.artifact(row.artifact_key).stat().st_mtime_ns
    # A second delivery of a finished job is skipped by the claim.
    assert jobs.write_snapshot.run(export_id) == "skipped"
    # A worker that died after writing leaves the row running; once its lease has run out,
    # the job runs again and finds the file already recorded.
    with stack.export_runtime.database.session() as session:
        session.execute(
            update(Export)
            .where(Export.id == export_id)
            .values(
                status=JobStatus.RUNNING.value, lease_expires_at=utcnow() - timedelta(minutes=1)
            )
        )
        session.commit()
    assert jobs.write_snapshot.run(export_id) == "succeeded"
    (after,) = db.exports(ner_project.project_id)
    assert db.artifact(after.artifact_key).stat().st_mtime_ns == written
    assert after.md5 == row.md5 and after.attempts == 2


def test_stale_jobs_are_sent_again(
    stack: Stack, cast: Cast, ner_project: Seeded, sent: list[tuple[str, int]]
) -> None:
    export_id = create(stack, cast, ner_project.project_id)["id"]
    with stack.export_runtime.database.session() as session:
        session.execute(
            update(Export)
            .where(Export.id == export_id)
            .values(updated_at=utcnow() - timedelta(hours=1))
        )
        session.commit()
    sent.clear()
    assert sum(sweep() for sweep in stack.export_runtime.stale_job_sweeps()) >= 1
    assert (jobs.write_snapshot.name, export_id) in sent


def test_filters_and_serialization_options(
    stack: Stack, cast: Cast, ner_project: Seeded, db: Db, sent: list[tuple[str, int]]
) -> None:
    project = ner_project.project_id
    options = {
        "task_filter_options": {"only_with_annotations": True},
        "annotation_filter_options": {"usual": True},
        "serialization_options": {"annotations__completed_by": {"only_id": False}},
    }
    created = create(stack, cast, project, options)
    assert created["task_filter_options"]["only_with_annotations"] is True
    assert jobs.write_snapshot.run(created["id"]) == "succeeded"
    tasks = get(stack, cast, project, created["id"], "/download").json()
    assert [task["id"] for task in tasks] == ner_project.task_ids[:2]
    assert tasks[1]["annotations"] == []  # the skipped annotation is not "usual"
    assert tasks[1]["cancelled_annotations"] == 1
    authors = [a["completed_by"] for a in tasks[0]["annotations"]]
    assert [author["email"] for author in authors] == [cast.owner.email, cast.annotator.email]
    assert db.exports(project)[0].counters == {"task_number": 2}

    skipped_only = create(stack, cast, project, {"task_filter_options": {"skipped": "only"}})
    jobs.write_snapshot.run(skipped_only["id"])
    assert [t["id"] for t in get(stack, cast, project, skipped_only["id"], "/download").json()] == [
        ner_project.task_ids[1]
    ]
    unannotated = create(stack, cast, project, {"task_filter_options": {"annotated": "exclude"}})
    jobs.write_snapshot.run(unannotated["id"])
    assert [t["id"] for t in get(stack, cast, project, unannotated["id"], "/download").json()] == [
        ner_project.task_ids[1],
        ner_project.task_ids[2],
    ]


def test_full_predictions_on_request(
    stack: Stack, cast: Cast, seeder: Seeder, sent: list[tuple[str, int]]
) -> None:
    project = seeder.project()
    seeder.tasks(
        project, [{"data": {"text": "Eve"}, "predictions": [{"result": [], "score": 0.25}]}]
    )
    created = create(
        stack, cast, project, {"serialization_options": {"predictions": {"only_id": False}}}
    )
    jobs.write_snapshot.run(created["id"])
    (task,) = get(stack, cast, project, created["id"], "/download").json()
    assert task["predictions"][0]["score"] == 0.25


def test_a_snapshot_of_a_deleted_project_fails(
    stack: Stack, cast: Cast, seeder: Seeder, db: Db, sent: list[tuple[str, int]]
) -> None:
    project = seeder.project()
    export_id = create(stack, cast, project)["id"]
    assert (
        stack.project.delete(f"/api/projects/{project}", headers=cast.owner.headers).status_code
        == 204
    )
    stack.export_runtime.http_app.state.project_directory._cache.clear()
    assert jobs.write_snapshot.run(export_id) == "failed"
    (row,) = db.exports(project)
    assert row.status == JobStatus.FAILED.value and "no longer exists" in (row.error or "")
    assert row.artifact_key is None
    # Forget the "gone" answer: later tests start from an empty directory cache.
    stack.export_runtime.http_app.state.project_directory._cache.clear()


def test_bad_snapshot_input(
    stack: Stack, cast: Cast, ner_project: Seeded, sent: list[tuple[str, int]]
) -> None:
    project = ner_project.project_id
    cases = [
        ({"task_filter_options": {"skipped": "sometimes"}}, "task_filter_options.skipped"),
        ({"task_filter_options": {"view": 0}}, "task_filter_options.view"),
        ({"title": 5}, "title"),
    ]
    for body, field in cases:
        answer = stack.export.post(
            f"/api/projects/{project}/exports", json=body, headers=cast.owner.headers
        )
        assert answer.status_code == 400, answer.text
        assert field in answer.json()["validation_errors"], answer.json()
    assert sent == []
    export_id = create(stack, cast, project)["id"]
    jobs.write_snapshot.run(export_id)
    for params, field in (
        ({"exportType": "XML"}, "exportType"),
        ({"exportType": "YOLO"}, "exportType"),
    ):
        answer = get(stack, cast, project, export_id, "/download", **params)
        assert answer.status_code == 400 and field in answer.json()["validation_errors"]
    convert = stack.export.post(
        f"/api/projects/{project}/exports/{export_id}/convert",
        json={"export_type": "XML"},
        headers=cast.owner.headers,
    )
    assert convert.status_code == 400 and "export_type" in convert.json()["validation_errors"]
    missing = stack.export.post(
        f"/api/projects/{project}/exports/{export_id}/convert", json={}, headers=cast.owner.headers
    )
    assert missing.status_code == 400 and "export_type" in missing.json()["validation_errors"]
    assert get(stack, cast, project, 999_999).status_code == 404


def test_metrics_count_rows_and_seconds(stack: Stack, cast: Cast, ner_project: Seeded) -> None:
    def sample(text: str, name: str) -> float:
        for line in text.splitlines():
            if line.startswith(name):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    rows = 'labelops_export_rows_total{format="JSON_MIN",mode="sync"}'
    runs = 'labelops_export_duration_seconds_count{format="JSON_MIN",mode="sync"}'
    before = stack.export.get("/metrics").text
    answer = stack.export.get(
        f"/api/projects/{ner_project.project_id}/export",
        params={"exportType": "JSON_MIN", "download_all_tasks": "true"},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 200
    after = stack.export.get("/metrics").text
    assert sample(after, rows) - sample(before, rows) == 3
    assert sample(after, runs) - sample(before, runs) == 1
    assert json.loads(answer.content)  # the body was complete


def test_peers_read_a_snapshot_over_grpc(
    stack: Stack, cast: Cast, ner_project: Seeded, sent: list[tuple[str, int]]
) -> None:
    export_id = create(stack, cast, ner_project.project_id)["id"]
    channel = grpc.insecure_channel(stack.common.peer_address("export-svc"))
    stub = export_pb2_grpc.ExportServiceStub(channel)
    request = export_pb2.GetExportRequest(project_id=ner_project.project_id, export_id=export_id)
    try:
        assert stub.GetExport(request, timeout=5).status == "created"
        jobs.write_snapshot.run(export_id)
        answer = stub.GetExport(request, timeout=5)
        assert (answer.status, answer.task_number) == ("completed", 3) and len(answer.md5) == 32
        with pytest.raises(grpc.RpcError) as missing:
            stub.GetExport(
                export_pb2.GetExportRequest(
                    project_id=ner_project.project_id + 1, export_id=export_id
                ),
                timeout=5,
            )
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        channel.close()

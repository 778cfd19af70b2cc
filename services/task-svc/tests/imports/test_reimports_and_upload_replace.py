"""`GET /api/projects/{id}/reimports/{pk}/` and `PATCH /api/import/file-upload/{id}`."""

from __future__ import annotations

from typing import Any

from task_svc.imports.models import FileUpload

from .conftest import TXT_CONFIG, url  # type: ignore[import-not-found]


def _upload(stack: Any, cast: Any, project: int, content: bytes) -> int:
    answer = stack.task.post(
        url(project, "?commit_to_project=false"),
        files={"file": ("later.csv", content, "text/csv")},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    upload_id: int = answer.json()["file_upload_ids"][0]
    return upload_id


def test_a_reimport_can_be_read_back(stack: Any, cast: Any, make_project: Any, db: Any) -> None:
    project = make_project(label_config=TXT_CONFIG)
    upload_id = _upload(stack, cast, project, b"text\na\nb\n")
    again = stack.task.post(
        f"/api/projects/{project}/reimport",
        json={"file_upload_ids": [upload_id], "files_as_tasks_list": True},
        headers=cast.owner.headers,
    )
    assert again.status_code == 201, again.text
    reimport = db.jobs(project)[-1]
    answer = stack.task.get(
        f"/api/projects/{project}/reimports/{reimport.id}/", headers=cast.owner.headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == reimport.id and body["project"] == project
    assert body["status"] == "completed"
    assert body["task_count"] == 2
    assert body["file_upload_ids"] == [upload_id]
    assert body["files_as_tasks_list"] is True

    first_import = db.jobs(project)[0]  # the upload itself, not a reimport
    plain = stack.task.get(
        f"/api/projects/{project}/reimports/{first_import.id}/", headers=cast.owner.headers
    )
    assert plain.status_code == 404
    other = stack.task.get(
        f"/api/projects/{project}/reimports/{reimport.id}/", headers=cast.outsider.headers
    )
    assert other.status_code == 404
    annotator = stack.task.get(
        f"/api/projects/{project}/reimports/{reimport.id}/", headers=cast.annotator.headers
    )
    assert annotator.status_code == 403


def test_patching_an_upload_replaces_its_content(
    stack: Any, cast: Any, make_project: Any, db: Any
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    upload_id = _upload(stack, cast, project, b"text\na\nb\n")
    answer = stack.task.patch(
        f"/api/import/file-upload/{upload_id}",
        files={"file": ("fixed.csv", b"text\nx\ny\nz\n", "text/csv")},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == upload_id
    assert answer.json()["file"].endswith("fixed.csv")
    with stack.task_runtime.database.session() as session:
        upload = session.get(FileUpload, upload_id)
        assert upload is not None and upload.file.endswith("fixed.csv")
        assert upload.size == len(b"text\nx\ny\nz\n")
    reimported = stack.task.post(
        f"/api/projects/{project}/reimport",
        json={"file_upload_ids": [upload_id]},
        headers=cast.owner.headers,
    )
    assert reimported.json()["task_count"] == 3
    assert sorted(task.data["text"] for task in db.tasks(project)) == ["x", "y", "z"]


def test_patching_an_upload_needs_one_file_and_the_right(
    stack: Any, cast: Any, make_project: Any
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    upload_id = _upload(stack, cast, project, b"text\na\n")
    two = stack.task.patch(
        f"/api/import/file-upload/{upload_id}",
        files=[
            ("file", ("one.csv", b"text\n1\n", "text/csv")),
            ("file", ("two.csv", b"text\n2\n", "text/csv")),
        ],
        headers=cast.owner.headers,
    )
    assert two.status_code == 400
    assert "file" in two.json()["validation_errors"]
    for actor, status in ((cast.annotator, 403), (cast.outsider, 404)):
        refused = stack.task.patch(
            f"/api/import/file-upload/{upload_id}",
            files={"file": ("x.csv", b"text\nq\n", "text/csv")},
            headers=actor.headers,
        )
        assert refused.status_code == status
    with stack.task_runtime.database.session() as session:
        upload = session.get(FileUpload, upload_id)
        assert upload is not None and upload.file.endswith("later.csv")

"""`POST /api/projects/{id}/import` as a whole: options, re-import, idempotency, permissions,
file uploads and predictions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from task_svc.imports.models import FileUpload

from .conftest import TXT_CONFIG, choice, url  # type: ignore[import-not-found]


def test_return_task_ids_and_the_bulk_alias(
    stack: Any, cast: Any, make_project: Any, db: Any
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    plain = stack.task.post(url(project), json=[{"text": "a"}], headers=cast.owner.headers)
    assert "task_ids" not in plain.json()
    alias = stack.task.post(
        f"/api/projects/{project}/tasks/bulk/?return_task_ids=true",
        json=[{"text": "b"}, {"text": "c"}],
        headers=cast.owner.headers,
    )
    assert alias.status_code == 201, alias.text
    ids = [task.id for task in db.tasks(project)]
    assert alias.json()["task_ids"] == ids[1:]


def test_preannotated_from_fields(stack: Any, cast: Any, make_project: Any, db: Any) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project, "?preannotated_from_fields=sentiment&return_task_ids=true"),
        content=b"text,sentiment\ngreat,Positive\nawful,Negative\n",
        headers={**cast.owner.headers, "Content-Type": "text/csv"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["prediction_count"] == 2
    first = stack.task.get(f"/api/tasks/{answer.json()['task_ids'][0]}", headers=cast.owner.headers)
    task = first.json()
    assert task["data"] == {"text": "great"}
    [prediction] = task["predictions"]
    assert prediction["result"][0]["value"] == {"choices": ["Positive"]}
    assert prediction["result"][0]["from_name"] == "sentiment"
    missing = stack.task.post(
        url(project, "?preannotated_from_fields=nope"),
        json=[{"text": "x"}],
        headers=cast.owner.headers,
    )
    assert missing.status_code == 400 and "nope" in missing.text


def test_commit_to_project_false_then_reimport(
    stack: Any, cast: Any, make_project: Any, db: Any
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project, "?commit_to_project=false"),
        files={"file": ("later.csv", b"text\na\nb\nc\n", "text/csv")},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert result["task_count"] == 3
    assert result["annotation_count"] is None and result["prediction_count"] is None
    assert db.task_count(project) == 0
    [upload_id] = result["file_upload_ids"]

    for _ in range(2):  # reimporting replaces the upload's tasks, never doubles them
        again = stack.task.post(
            f"/api/projects/{project}/reimport",
            json={"file_upload_ids": [upload_id]},
            headers=cast.owner.headers,
        )
        assert again.status_code == 201, again.text
        assert again.json()["task_count"] == 3
        assert db.task_count(project) == 3
        assert db.counts(project)["task_number"] == 3
    assert {task.file_upload_id for task in db.tasks(project)} == {upload_id}

    nothing = stack.task.post(
        f"/api/projects/{project}/reimport",
        json={"file_upload_ids": []},
        headers=cast.owner.headers,
    )
    assert nothing.status_code == 200 and nothing.json()["task_count"] == 0
    unknown = stack.task.post(
        f"/api/projects/{project}/reimport",
        json={"file_upload_ids": [upload_id + 10_000]},
        headers=cast.owner.headers,
    )
    assert unknown.status_code == 400


def test_idempotency_key_replays_the_first_answer(
    stack: Any, cast: Any, make_project: Any, db: Any
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    headers = {**cast.owner.headers, "Idempotency-Key": "retry-1"}
    first = stack.task.post(url(project), json=[{"text": "a"}, {"text": "b"}], headers=headers)
    second = stack.task.post(url(project), json=[{"text": "a"}, {"text": "b"}], headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json()["task_count"] == 2
    assert db.task_count(project) == 2


@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 201), ("manager", 201), ("annotator", 403), ("outsider", 404), ("anonymous", 401)],
)
def test_import_permissions(
    stack: Any, cast: Any, make_project: Any, db: Any, who: str, expected: int
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    headers = {} if who == "anonymous" else getattr(cast, who).headers
    answer = stack.task.post(url(project), json=[{"text": "x"}], headers=headers)
    assert answer.status_code == expected, answer.text
    assert db.task_count(project) == (1 if expected == 201 else 0)
    upload = stack.task.post(
        url(project), files={"file": ("t.csv", b"text\nx\n", "text/csv")}, headers=headers
    )
    assert upload.status_code == expected
    assert db.state(project)["file_uploads"] == (1 if expected == 201 else 0)


def test_unknown_project_is_404(stack: Any, cast: Any) -> None:
    answer = stack.task.post(url(999_999_999), json=[{"text": "x"}], headers=cast.owner.headers)
    assert answer.status_code == 404


def test_file_uploads_list_and_delete(
    stack: Any, cast: Any, make_project: Any, db: Any, data_dir: Any
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    ids = []
    for name in ("a.csv", "b.csv", "c.csv"):
        answer = stack.task.post(
            url(project),
            files={"file": (name, b"text\nx\n", "text/csv")},
            headers=cast.owner.headers,
        )
        ids += answer.json()["file_upload_ids"]
    base = f"/api/projects/{project}/file-uploads"
    assert stack.task.get(base, headers=cast.owner.headers).json() == []
    listed = stack.task.get(f"{base}?all=true", headers=cast.owner.headers).json()
    assert [u["id"] for u in listed] == ids
    some = stack.task.get(f"{base}?ids={json.dumps(ids[:2])}", headers=cast.owner.headers)
    assert [u["id"] for u in some.json()] == ids[:2]
    assert stack.task.get(f"{base}?all=true", headers=cast.annotator.headers).status_code == 403
    assert stack.task.get(f"{base}?all=true", headers=cast.outsider.headers).status_code == 404
    assert stack.task.get(f"{base}?all=true").status_code == 401

    one = stack.task.get(f"/api/import/file-upload/{ids[0]}", headers=cast.owner.headers)
    assert one.status_code == 200 and one.json()["id"] == ids[0]
    assert (
        stack.task.get(
            f"/api/import/file-upload/{ids[0]}", headers=cast.outsider.headers
        ).status_code
        == 404
    )
    path = data_dir / one.json()["file"]
    assert path.is_file()
    deleted = stack.task.request(
        "DELETE", base, json={"file_upload_ids": [ids[0]]}, headers=cast.owner.headers
    )
    assert deleted.status_code == 200 and deleted.json() == {"deleted": 1}
    assert not path.exists()
    assert db.task_count(project) == 3  # tasks stay, unlinked
    assert sum(1 for t in db.tasks(project) if t.file_upload_id is None) == 1
    single = stack.task.delete(f"/api/import/file-upload/{ids[1]}", headers=cast.owner.headers)
    assert single.status_code == 204
    rest = stack.task.request("DELETE", base, headers=cast.owner.headers)
    assert rest.json() == {"deleted": 1}
    assert db.state(project)["file_uploads"] == 0


def test_import_predictions(stack: Any, cast: Any, make_project: Any, db: Any) -> None:
    project = make_project(label_config=TXT_CONFIG)
    other = make_project(label_config=TXT_CONFIG)
    ids = stack.task.post(
        url(project, "?return_task_ids=true"),
        json=[{"text": "a"}, {"text": "b"}],
        headers=cast.owner.headers,
    ).json()["task_ids"]
    foreign = stack.task.post(
        url(other, "?return_task_ids=true"), json=[{"text": "z"}], headers=cast.owner.headers
    ).json()["task_ids"][0]
    endpoint = f"/api/projects/{project}/import/predictions"
    answer = stack.task.post(
        endpoint,
        json=[
            {"task": ids[0], "result": choice(), "score": 0.9, "model_version": "v2"},
            {"task": ids[0], "result": choice("Negative"), "score": 0.1},
            {"task": ids[1], "result": choice()},
        ],
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"created": 3}
    task = stack.task.get(f"/api/tasks/{ids[0]}", headers=cast.owner.headers).json()
    assert task["total_predictions"] == 2
    assert task["predictions_score"] == pytest.approx(0.5)
    assert db.counts(project)["total_predictions_number"] == 3

    bad = stack.task.post(
        endpoint,
        json=[{"task": ids[1], "result": choice()}, {"task": foreign, "result": choice()}],
        headers=cast.owner.headers,
    )
    assert bad.status_code == 400
    assert "Error at item 1" in bad.json()["validation_errors"]["non_field_errors"][0]
    assert db.state(project)["predictions"] == 3
    assert db.counts(project)["total_predictions_number"] == 3
    assert db.state(other)["predictions"] == 0
    denied = stack.task.post(endpoint, json=[], headers=cast.annotator.headers)
    assert denied.status_code == 403


def test_file_upload_rows_are_the_projects_own(stack: Any, cast: Any, make_project: Any) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project),
        files={"file": ("x.csv", b"text\nx\n", "text/csv")},
        headers=cast.owner.headers,
    )
    [upload_id] = answer.json()["file_upload_ids"]
    with stack.task_runtime.database.session() as session:
        upload = session.get(FileUpload, upload_id)
        assert upload is not None
        assert upload.project_id == project and upload.user_id == cast.owner.user_id

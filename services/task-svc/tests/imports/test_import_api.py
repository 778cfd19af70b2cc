"""`POST /api/projects/{id}/import`: every body format, counters, all-or-nothing, permissions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from task_svc.imports.models import FileUpload

TXT_CONFIG = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
</View>
"""


def choice(label: str = "Positive") -> list[dict[str, Any]]:
    return [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


def url(project: int, query: str = "") -> str:
    return f"/api/projects/{project}/import{query}"


RAW_BODIES: dict[str, tuple[str, bytes]] = {
    "json": ("application/json", json.dumps([{"text": "a"}, {"data": {"text": "b"}}]).encode()),
    "jsonl": ("application/x-ndjson", b'{"text": "a"}\n\n{"data": {"text": "b"}}\n'),
    "jsonl-alt": ("application/jsonl", b'{"text": "a"}\n{"text": "b"}'),
    "csv": ("text/csv", b"text,other\na,1\nb,2\n"),
    "tsv": ("text/tab-separated-values", b"text\tother\na\t1\nb\t2\n"),
    "txt": ("text/plain; charset=utf-8", b"a\n\nb\n"),
}


@pytest.mark.parametrize("kind", sorted(RAW_BODIES))
def test_every_format_as_a_raw_body(
    stack: Any, cast: Any, make_project: Any, db: Any, kind: str
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    content_type, body = RAW_BODIES[kind]
    answer = stack.task.post(
        url(project, "?return_task_ids=true"),
        content=body,
        headers={**cast.owner.headers, "Content-Type": content_type},
    )
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert result["task_count"] == 2
    assert result["annotation_count"] == 0 and result["prediction_count"] == 0
    assert result["file_upload_ids"] == [] and result["found_formats"] == []
    assert result["could_be_tasks_list"] is False and result["data_columns"] == []
    assert isinstance(result["duration"], float)
    tasks = db.tasks(project)
    assert [task.id for task in tasks] == result["task_ids"]
    assert [task.data["text"] for task in tasks] == ["a", "b"]
    assert [task.inner_id for task in tasks] == [1, 2]
    assert db.counts(project)["task_number"] == 2


FILES: dict[str, bytes] = {
    "tasks.json": json.dumps([{"text": "a"}, {"text": "b"}]).encode(),
    "tasks.jsonl": b'{"text": "a"}\n{"text": "b"}\n',
    "tasks.csv": b"text\na\nb\n",
    "tasks.tsv": b"text\ta2\na\tx\nb\ty\n",
    "tasks.txt": b"a\nb\n",
}


@pytest.mark.parametrize("filename", sorted(FILES))
def test_every_format_as_a_multipart_file(
    stack: Any, cast: Any, make_project: Any, db: Any, filename: str
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project),
        files={"anything": (filename, FILES[filename], "application/octet-stream")},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    result = answer.json()
    extension = filename[filename.index(".") :]
    assert result["task_count"] == 2
    assert result["found_formats"] == {extension: 1}
    assert result["could_be_tasks_list"] is (extension in (".csv", ".tsv", ".txt"))
    assert len(result["file_upload_ids"]) == 1
    upload_id = result["file_upload_ids"][0]
    tasks = db.tasks(project)
    assert [task.data["text"] for task in tasks] == ["a", "b"]
    assert {task.file_upload_id for task in tasks} == {upload_id}
    expected_columns = ["$undefined$"] if extension == ".txt" else ["text"]
    if extension == ".tsv":
        expected_columns = ["a2", "text"]
    assert result["data_columns"] == expected_columns
    listed = stack.task.get(
        f"/api/projects/{project}/file-uploads?ids=[{upload_id}]", headers=cast.owner.headers
    )
    assert listed.status_code == 200
    [upload] = listed.json()
    assert upload["id"] == upload_id and upload["size"] == len(FILES[filename])
    assert upload["file"].startswith(f"upload/{project}/") and upload["file"].endswith(filename)


def test_several_files_in_one_request(stack: Any, cast: Any, make_project: Any, db: Any) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project),
        files=[
            ("file", ("one.csv", b"text\na\n", "text/csv")),
            ("other", ("two.json", b'[{"text": "b"}, {"text": "c"}]', "application/json")),
        ],
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert result["task_count"] == 3
    assert result["found_formats"] == {".csv": 1, ".json": 1}
    assert len(result["file_upload_ids"]) == 2
    assert db.state(project)["file_uploads"] == 2


def test_a_single_object_and_plain_objects_are_wrapped(
    stack: Any, cast: Any, make_project: Any, db: Any
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    single = stack.task.post(url(project), json={"text": "alone"}, headers=cast.owner.headers)
    assert single.status_code == 201, single.text
    assert single.json()["task_count"] == 1
    task = stack.task.post(
        url(project),
        json={"data": {"text": "wrapped"}, "meta": {"m": 1}},
        headers=cast.owner.headers,
    )
    assert task.status_code == 201
    stored = db.tasks(project)
    assert [(t.data, t.meta) for t in stored] == [
        ({"text": "alone"}, {}),
        ({"text": "wrapped"}, {"m": 1}),
    ]


def test_escapes_and_control_characters_are_stored_exactly(
    stack: Any, cast: Any, make_project: Any, db: Any
) -> None:
    """Backslashes, quotes and control characters in task data survive the COPY text format
    unchanged, also in meta and annotations."""
    project = make_project(label_config=TXT_CONFIG)
    tricky = 'back\\slash \\n not a newline, tab\there,\nnewline, \r "quoted" \\u0000 é \u2028'
    items = [
        {"data": {"text": tricky, "nested": {"k\\ey": [tricky]}}, "meta": {"note": tricky}},
        {"data": {"text": "\\"}, "annotations": [{"result": choice()}]},
    ]
    answer = stack.task.post(url(project), json=items, headers=cast.owner.headers)
    assert answer.status_code == 201, answer.text
    stored = db.tasks(project)
    assert [(t.data, t.meta) for t in stored] == [
        ({"text": tricky, "nested": {"k\\ey": [tricky]}}, {"note": tricky}),
        ({"text": "\\"}, {}),
    ]


def test_annotations_and_predictions_set_task_and_project_counters(
    stack: Any, cast: Any, make_project: Any, db: Any
) -> None:
    project = make_project(label_config=TXT_CONFIG, maximum_annotations=2)
    items = [
        {"text": "plain"},
        {
            "data": {"text": "predicted"},
            "predictions": [
                {"result": choice("Positive"), "score": "0.7", "model_version": "m1"},
                {"result": choice("Negative"), "score": 0.3},
                {"result": choice("Neutral"), "score": "not a number"},
            ],
        },
        {
            "data": {"text": "annotated"},
            "annotations": [
                {"result": choice("Positive"), "id": 77, "lead_time": 4.5},
                {
                    "result": choice("Negative"),
                    "completed_by": cast.annotator.user_id,
                    "ground_truth": False,
                },
                {"result": [], "was_cancelled": True, "completed_by": cast.annotator2.user_id},
            ],
        },
        {
            "data": {"text": "half"},
            "annotations": [{"result": choice(), "completed_by": {"email": cast.owner.email}}],
        },
    ]
    answer = stack.task.post(
        url(project, "?return_task_ids=1"), json=items, headers=cast.owner.headers
    )
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert (result["task_count"], result["annotation_count"], result["prediction_count"]) == (
        4,
        4,
        3,
    )
    plain, predicted, annotated, half = result["task_ids"]

    task = stack.task.get(f"/api/tasks/{predicted}", headers=cast.owner.headers).json()
    assert task["total_predictions"] == 3 and task["total_annotations"] == 0
    assert task["predictions_score"] == pytest.approx(0.5)
    versions = sorted(p["model_version"] for p in task["predictions"])
    assert versions == ["m1", "undefined", "undefined"]
    assert sorted(p["score"] for p in task["predictions"] if p["score"] is not None) == [
        0.3,
        0.7,
    ]
    assert any(p["score"] is None for p in task["predictions"])

    task = stack.task.get(f"/api/tasks/{annotated}", headers=cast.owner.headers).json()
    assert task["total_annotations"] == 2 and task["cancelled_annotations"] == 1
    assert task["is_labeled"] is True  # two distinct annotators, overlap 2
    assert task["completed_at"] is not None and task["overlap"] == 2
    by_author = {
        (a["completed_by"]["id"] if isinstance(a["completed_by"], dict) else a["completed_by"]): a
        for a in task["annotations"]
    }
    mine = by_author[cast.owner.user_id]
    assert mine["ground_truth"] is True and mine["was_cancelled"] is False
    assert mine["import_id"] == 77 and mine["lead_time"] == 4.5
    assert by_author[cast.annotator.user_id]["ground_truth"] is False
    assert by_author[cast.annotator2.user_id]["was_cancelled"] is True

    task = stack.task.get(f"/api/tasks/{half}", headers=cast.owner.headers).json()
    assert task["total_annotations"] == 1 and task["is_labeled"] is False
    assert task["completed_at"] is None
    plain_task = stack.task.get(f"/api/tasks/{plain}", headers=cast.owner.headers).json()
    assert plain_task["total_annotations"] == 0 and plain_task["predictions_score"] is None

    assert db.counts(project) == {
        "task_number": 4,
        "finished_task_number": 1,
        "total_annotations_number": 3,
        "skipped_annotations_number": 1,
        "ground_truth_number": 3,
        "useful_annotation_number": 3,
        "num_tasks_with_annotations": 2,
        "total_predictions_number": 3,
    }
    # The counters written at import match the ones the per-annotation path keeps.
    deleted = stack.task.delete(f"/api/tasks/{annotated}", headers=cast.owner.headers)
    assert deleted.status_code == 204
    after = db.counts(project)
    assert after["total_annotations_number"] == 1 and after["skipped_annotations_number"] == 0
    assert after["finished_task_number"] == 0 and after["ground_truth_number"] == 1


def test_inner_ids_continue_after_existing_tasks(
    stack: Any, cast: Any, make_project: Any, db: Any
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    created = stack.task.post(
        "/api/tasks",
        json={"project": project, "data": {"text": "first"}},
        headers=cast.owner.headers,
    )
    assert created.status_code == 201
    answer = stack.task.post(
        url(project), json=[{"text": "x"}, {"text": "y"}], headers=cast.owner.headers
    )
    assert answer.status_code == 201
    assert [task.inner_id for task in db.tasks(project)] == [1, 2, 3]


def _bad_import(stack: Any, cast: Any, project: int, items: list[Any]) -> dict[str, Any]:
    answer = stack.task.post(url(project), json=items, headers=cast.owner.headers)
    assert answer.status_code == 400, answer.text
    assert "Traceback" not in answer.text
    body: dict[str, Any] = answer.json()
    assert body["detail"] == "Validation error"
    return body


def test_a_bad_item_imports_nothing(stack: Any, cast: Any, make_project: Any, db: Any) -> None:
    project = make_project(label_config=TXT_CONFIG)
    seeded = stack.task.post(
        url(project),
        json=[{"data": {"text": "seed"}, "annotations": [{"result": choice()}]}],
        headers=cast.owner.headers,
    )
    assert seeded.status_code == 201
    before_counts, before_state = db.counts(project), db.state(project)

    items: list[Any] = [
        {"data": {"text": "ok 0"}, "annotations": [{"result": choice()}]},
        {"text": "ok 1"},
        {"data": {"text": "ok 2"}, "predictions": [{"result": choice()}]},
        {"nottext": "x"},
        {"text": "ok 4"},
    ]
    body = _bad_import(stack, cast, project, items)
    assert body["validation_errors"] == {
        "non_field_errors": ['Error at item 3: "text" key is expected in task data']
    }
    assert db.counts(project) == before_counts
    assert db.state(project) == before_state
    failed = db.jobs(project)[-1]
    assert failed.status == "failed" and "Error at item 3" in (failed.error or "")


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"data": {"text": "x"}, "annotations": [{"result": choice("Nope")}]},
            'Error at item 1: annotations[0].result[0].value.choices: label "Nope" is not in',
        ),
        (
            {"data": {"text": "x"}, "predictions": [{"result": [{"from_name": "zzz"}]}]},
            "Error at item 1: predictions[0].result[0].from_name:",
        ),
        (
            {
                "data": {"text": "x"},
                "annotations": [
                    {"result": choice(), "completed_by": {"email": "who@nowhere.test"}}
                ],
            },
            "Error at item 1: annotations[0].completed_by.email: Unknown user email",
        ),
        ({"data": "not an object"}, 'Error at item 1: The "data" field must be a JSON object'),
        ([1, 2], "Error at item 1: Each task must be a JSON object"),
        (
            {"data": {"text": "x"}, "annotations": "nope"},
            "Error at item 1: annotations: Must be a list.",
        ),
        ({"data": {"text": "x"}, "meta": [1]}, "Error at item 1: meta: Must be a JSON object."),
        ({"data": {"text": "x\u0000y"}}, "Error at item 1: Text must not contain NUL"),
    ],
)
def test_item_errors_name_the_item_and_field(
    stack: Any, cast: Any, make_project: Any, db: Any, item: Any, message: str
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    body = _bad_import(stack, cast, project, [{"text": "fine"}, item])
    [error] = body["validation_errors"]["non_field_errors"]
    assert error.startswith(message), error
    assert db.state(project) == {"tasks": 0, "annotations": 0, "predictions": 0, "file_uploads": 0}


def test_a_bad_file_removes_its_upload(
    stack: Any, cast: Any, make_project: Any, db: Any, data_dir: Any
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project),
        files={"file": ("bad.csv", b"other\nx\n", "text/csv")},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 400
    assert "Error at item 0" in answer.json()["validation_errors"]["non_field_errors"][0]
    assert db.state(project)["file_uploads"] == 0
    assert not list((data_dir / "upload" / str(project)).glob("*"))


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b"[]", "application/json", 400, "No tasks added"),
        (b"", "application/json", 400, "No data found"),
        (b"[{", "application/json", 400, "Invalid JSON"),
        (b"text\n", "text/csv", 400, "No tasks added"),
        (b"<xml/>", "application/xml", 415, "Unsupported media type"),
    ],
)
def test_empty_and_malformed_bodies(
    stack: Any,
    cast: Any,
    make_project: Any,
    db: Any,
    body: bytes,
    content_type: str,
    status: int,
    fragment: str,
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project), content=body, headers={**cast.owner.headers, "Content-Type": content_type}
    )
    assert answer.status_code == status, answer.text
    assert fragment in answer.text
    assert db.task_count(project) == 0


def test_url_form_field_with_json(stack: Any, cast: Any, make_project: Any, db: Any) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project), data={"url": json.dumps([{"text": "from form"}])}, headers=cast.owner.headers
    )
    assert answer.status_code == 201, answer.text
    assert [task.data for task in db.tasks(project)] == [{"text": "from form"}]
    remote = stack.task.post(
        url(project), data={"url": "http://169.254.169.254/latest"}, headers=cast.owner.headers
    )
    assert remote.status_code == 400
    assert "url" in remote.json()["validation_errors"]


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


def test_raw_body_with_commit_false_is_kept_as_an_upload(
    stack: Any, cast: Any, make_project: Any, db: Any
) -> None:
    project = make_project(label_config=TXT_CONFIG)
    answer = stack.task.post(
        url(project, "?commit_to_project=false"), json=[{"text": "a"}], headers=cast.owner.headers
    )
    assert answer.status_code == 201, answer.text
    [upload_id] = answer.json()["file_upload_ids"]
    again = stack.task.post(
        f"/api/projects/{project}/reimport",
        json={"file_upload_ids": [upload_id]},
        headers=cast.owner.headers,
    )
    assert again.status_code == 201, again.text
    assert [task.data for task in db.tasks(project)] == [{"text": "a"}]


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

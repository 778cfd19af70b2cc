"""Items checked and prepared as the writer takes them (`imports.validation`): wrapping,
exact text, counters set at insert, inner ids, and errors that name the item and field."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import TXT_CONFIG, choice, url  # type: ignore[import-not-found]


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
        # Label Studio's rule: not skipped, not ground truth (imports default to ground truth).
        "useful_annotation_number": 1,
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

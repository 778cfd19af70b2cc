"""`GET /api/projects/{id}/annotators/` and `PUT /api/predictions/{id}/`."""

from __future__ import annotations

from typing import Any

import pytest
from task_svc.predictions.models import Prediction

REGION = {
    "from_name": "sentiment",
    "to_name": "text",
    "type": "choices",
    "value": {"choices": ["Positive"]},
}


def _task(stack: Any, cast: Any, project: int) -> int:
    answer = stack.task.post(
        "/api/tasks", json={"project": project, "data": {"text": "t"}}, headers=cast.owner.headers
    )
    assert answer.status_code == 201, answer.text
    task_id: int = answer.json()["id"]
    return task_id


def test_annotators_are_the_people_who_annotated(stack: Any, cast: Any, make_project: Any) -> None:
    project = make_project()
    task = _task(stack, cast, project)
    for actor in (cast.annotator, cast.annotator2, cast.annotator):
        answer = stack.task.post(
            f"/api/tasks/{task}/annotations", json={"result": [REGION]}, headers=actor.headers
        )
        assert answer.status_code == 201, answer.text
    answer = stack.task.get(f"/api/projects/{project}/annotators/", headers=cast.owner.headers)
    assert answer.status_code == 200, answer.text
    people = answer.json()
    assert [person["id"] for person in people] == sorted(
        [cast.annotator.user_id, cast.annotator2.user_id]
    )
    assert {person["email"] for person in people} == {
        cast.annotator.email,
        cast.annotator2.email,
    }
    assert set(people[0]) >= {"id", "first_name", "last_name", "email", "avatar"}
    assert (
        stack.task.get(
            f"/api/projects/{project}/annotators/", headers=cast.outsider.headers
        ).status_code
        == 404
    )


def _prediction(stack: Any, cast: Any, task: int) -> dict[str, Any]:
    answer = stack.task.post(
        "/api/predictions",
        json={"task": task, "result": [REGION], "score": 0.4, "model_version": "m1"},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def test_put_replaces_the_whole_prediction(stack: Any, cast: Any, make_project: Any) -> None:
    project = make_project()
    task = _task(stack, cast, project)
    prediction = _prediction(stack, cast, task)
    answer = stack.task.put(
        f"/api/predictions/{prediction['id']}/",
        json={"task": task, "result": []},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["score"] is None and answer.json()["model_version"] == ""
    with stack.task_runtime.database.session() as session:
        row = session.get(Prediction, prediction["id"])
        assert row is not None
        assert (row.result, row.score, row.model_version) == ([], None, "")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"score": 0.3}, "result"),
        ({"result": [], "task": -1}, "task"),
        ({"result": [{**REGION, "from_name": "nope"}]}, "result"),
    ],
)
def test_put_refuses_a_bad_body_and_changes_nothing(
    stack: Any, cast: Any, make_project: Any, body: dict[str, Any], field: str
) -> None:
    project = make_project()
    task = _task(stack, cast, project)
    prediction = _prediction(stack, cast, task)
    answer = stack.task.put(
        f"/api/predictions/{prediction['id']}/", json=body, headers=cast.owner.headers
    )
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["validation_errors"]
    with stack.task_runtime.database.session() as session:
        row = session.get(Prediction, prediction["id"])
        assert row is not None and row.score == 0.4 and row.model_version == "m1"


def test_put_is_for_managers_of_the_organization(stack: Any, cast: Any, make_project: Any) -> None:
    project = make_project()
    task = _task(stack, cast, project)
    prediction = _prediction(stack, cast, task)
    for actor, status in ((cast.annotator, 403), (cast.outsider, 404)):
        answer = stack.task.put(
            f"/api/predictions/{prediction['id']}/",
            json={"result": []},
            headers=actor.headers,
        )
        assert answer.status_code == status

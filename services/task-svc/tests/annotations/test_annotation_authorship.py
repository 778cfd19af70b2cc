"""Annotation writes take their authorship from the caller (issue 21): `completed_by` is
the caller, `ground_truth` is a manager's call, another user's draft is refused and left
alone, and a parent annotation or prediction must be one of the task's own."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from task_svc.annotations.models import Annotation
from task_svc.drafts.models import Draft


def region(choice: str = "Positive") -> dict[str, Any]:
    return {
        "id": "r1",
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [choice]},
    }


def make_task(client: TestClient, actor: Any, project_id: int) -> int:
    answer = client.post(
        "/api/tasks", json={"project": project_id, "data": {"text": "hi"}}, headers=actor.headers
    )
    assert answer.status_code == 201, answer.text
    task_id: int = answer.json()["id"]
    return task_id


def post_annotation(client: TestClient, actor: Any, task_id: int, **body: Any) -> Any:
    return client.post(
        f"/api/tasks/{task_id}/annotations",
        json={"result": [region()], **body},
        headers=actor.headers,
    )


def annotations(stack: Any, task_id: int) -> list[Annotation]:
    with stack.task_runtime.database.session() as session:
        return list(
            session.scalars(
                select(Annotation).where(Annotation.task_id == task_id).order_by(Annotation.id)
            )
        )


def draft_row(stack: Any, draft_id: int) -> Draft | None:
    with stack.task_runtime.database.session() as session:
        return session.get(Draft, draft_id)


@pytest.fixture()
def task_id(client: TestClient, cast: Any, make_project: Any) -> int:
    return make_task(client, cast.owner, make_project())


@pytest.mark.parametrize("actor", ["annotator", "manager", "owner"])
def test_completed_by_is_always_the_caller(
    client: TestClient, cast: Any, stack: Any, task_id: int, actor: str
) -> None:
    caller = getattr(cast, actor)
    for someone_else in (cast.annotator2.user_id, cast.outsider.user_id, 987654321):
        answer = post_annotation(client, caller, task_id, completed_by=someone_else)
        assert answer.status_code == 201, answer.text
        assert answer.json()["completed_by"] == caller.user_id
    assert [a.completed_by_id for a in annotations(stack, task_id)] == [caller.user_id] * 3


def test_an_annotator_may_not_set_ground_truth(
    client: TestClient, cast: Any, stack: Any, task_id: int
) -> None:
    refused = post_annotation(client, cast.annotator, task_id, ground_truth=True)
    assert refused.status_code == 403, refused.text
    assert "ground_truth" in refused.json()["validation_errors"]
    assert annotations(stack, task_id) == []

    own = post_annotation(client, cast.annotator, task_id, ground_truth=False)
    assert own.status_code == 201, own.text
    url = f"/api/annotations/{own.json()['id']}"
    patched = client.patch(url, json={"ground_truth": True}, headers=cast.annotator.headers)
    assert patched.status_code == 403, patched.text
    assert "ground_truth" in patched.json()["validation_errors"]
    assert [a.ground_truth for a in annotations(stack, task_id)] == [False]

    # Sending the value it already has changes nothing and is fine.
    same = client.patch(url, json={"ground_truth": False}, headers=cast.annotator.headers)
    assert same.status_code == 200, same.text


def test_a_manager_sets_and_clears_ground_truth(
    client: TestClient, cast: Any, stack: Any, task_id: int
) -> None:
    created = post_annotation(client, cast.manager, task_id, ground_truth=True)
    assert created.status_code == 201, created.text
    other = post_annotation(client, cast.annotator, task_id).json()
    assert [a.ground_truth for a in annotations(stack, task_id)] == [True, False]

    marked = client.patch(
        f"/api/annotations/{other['id']}", json={"ground_truth": True}, headers=cast.owner.headers
    )
    assert marked.status_code == 200, marked.text
    assert [a.ground_truth for a in annotations(stack, task_id)] == [False, True]

    # An annotator no longer unmarks their own annotation once a manager marked it.
    unmarked = client.patch(
        f"/api/annotations/{other['id']}",
        json={"ground_truth": False},
        headers=cast.annotator.headers,
    )
    assert unmarked.status_code == 403, unmarked.text
    assert [a.ground_truth for a in annotations(stack, task_id)] == [False, True]


def test_another_users_draft_is_refused_and_kept(
    client: TestClient, cast: Any, stack: Any, task_id: int
) -> None:
    theirs = client.post(
        f"/api/tasks/{task_id}/drafts", json={"result": [region()]}, headers=cast.annotator2.headers
    )
    assert theirs.status_code == 201, theirs.text
    draft_id = theirs.json()["id"]
    before = draft_row(stack, draft_id)

    for actor in (cast.annotator, cast.manager):
        refused = post_annotation(client, actor, task_id, draft_id=draft_id)
        assert refused.status_code == 400, refused.text
        assert "draft_id" in refused.json()["validation_errors"]
    assert annotations(stack, task_id) == []
    after = draft_row(stack, draft_id)
    assert after is not None and before is not None
    assert (after.user_id, after.result, after.updated_at) == (
        before.user_id,
        before.result,
        before.updated_at,
    )

    # Its author consumes it as before.
    own = post_annotation(client, cast.annotator2, task_id, draft_id=draft_id)
    assert own.status_code == 201, own.text
    assert draft_row(stack, draft_id) is None


def test_own_draft_of_another_task_is_refused(
    client: TestClient, cast: Any, stack: Any, make_project: Any, task_id: int
) -> None:
    other_task = make_task(client, cast.owner, make_project())
    draft = client.post(
        f"/api/tasks/{other_task}/drafts", json={"result": []}, headers=cast.annotator.headers
    ).json()
    refused = post_annotation(client, cast.annotator, task_id, draft_id=draft["id"])
    assert refused.status_code == 400, refused.text
    assert "draft_id" in refused.json()["validation_errors"]
    assert draft_row(stack, draft["id"]) is not None
    assert annotations(stack, task_id) == []


def test_a_draft_that_is_gone_is_ignored(
    client: TestClient, cast: Any, stack: Any, task_id: int
) -> None:
    answer = post_annotation(client, cast.annotator, task_id, draft_id=2**40)
    assert answer.status_code == 201, answer.text
    assert answer.json()["draft_created_at"] is None


def test_parents_must_be_of_the_same_task(
    client: TestClient, cast: Any, stack: Any, make_project: Any, task_id: int
) -> None:
    sibling = post_annotation(client, cast.annotator2, task_id).json()
    prediction = client.post(
        "/api/predictions",
        json={"task": task_id, "result": [region()]},
        headers=cast.owner.headers,
    )
    assert prediction.status_code == 201, prediction.text

    outsider_project = make_project(cast.outsider)
    outsider_task = make_task(client, cast.outsider, outsider_project)
    foreign = post_annotation(client, cast.outsider, outsider_task).json()
    foreign_prediction = client.post(
        "/api/predictions",
        json={"task": outsider_task, "result": [region()]},
        headers=cast.outsider.headers,
    ).json()
    same_org_task = make_task(client, cast.owner, make_project())
    same_org = post_annotation(client, cast.owner, same_org_task).json()

    for field, value in (
        ("parent_annotation", foreign["id"]),
        ("parent_annotation", same_org["id"]),
        ("parent_annotation", 2**40),
        ("parent_prediction", foreign_prediction["id"]),
    ):
        refused = post_annotation(client, cast.annotator, task_id, **{field: value})
        assert refused.status_code == 400, (field, refused.text)
        assert field in refused.json()["validation_errors"]
    assert [a.id for a in annotations(stack, task_id)] == [sibling["id"]]

    ok = post_annotation(
        client,
        cast.annotator,
        task_id,
        parent_annotation=sibling["id"],
        parent_prediction=prediction.json()["id"],
    )
    assert ok.status_code == 201, ok.text
    row = annotations(stack, task_id)[-1]
    assert (row.parent_annotation_id, row.parent_prediction_id) == (
        sibling["id"],
        prediction.json()["id"],
    )

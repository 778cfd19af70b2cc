"""Annotations name their author as Label Studio's do: `created_username` ("First Last
email, id"), `created_ago`, and `?expand=completed_by` for the author's object."""

from __future__ import annotations

from typing import Any

from project_svc.users.models import User
from task_svc.annotations.schemas import created_username

REGION = {
    "from_name": "sentiment",
    "to_name": "text",
    "type": "choices",
    "value": {"choices": ["Positive"]},
}


def test_created_username_is_label_studios() -> None:
    full = {"id": 7, "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
    assert created_username(full) == "Ada Lovelace ada@example.com, 7"
    assert created_username({**full, "last_name": ""}) == "Ada ada@example.com, 7"
    assert created_username({**full, "first_name": "", "last_name": ""}) == " ada@example.com, 7"
    assert created_username({"id": 7}) == "7"  # project-svc could not name them
    assert created_username(None) == ""


def test_annotation_answers_carry_the_authors_fields(
    stack: Any, cast: Any, make_project: Any
) -> None:
    with stack.project_runtime.database.session() as session:
        user = session.get(User, cast.annotator.user_id)
        assert user is not None
        user.first_name, user.last_name = "Grace", "Hopper"
        session.commit()
    project = make_project()
    task = stack.task.post(
        "/api/tasks", json={"project": project, "data": {"text": "t"}}, headers=cast.owner.headers
    ).json()["id"]
    created = stack.task.post(
        f"/api/tasks/{task}/annotations", json={"result": [REGION]}, headers=cast.annotator.headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    expected = f"Grace Hopper {cast.annotator.email}, {cast.annotator.user_id}"
    assert body["created_username"] == expected
    assert body["created_ago"] == "0\xa0minutes"
    assert body["completed_by"] == cast.annotator.user_id

    got = stack.task.get(
        f"/api/annotations/{body['id']}?expand=completed_by", headers=cast.owner.headers
    ).json()
    assert got["completed_by"]["id"] == cast.annotator.user_id
    assert got["completed_by"]["email"] == cast.annotator.email
    assert got["completed_by"]["first_name"] == "Grace"
    listed = stack.task.get(f"/api/tasks/{task}/annotations", headers=cast.owner.headers).json()
    assert [a["created_username"] for a in listed] == [expected]

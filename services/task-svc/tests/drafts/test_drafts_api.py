"""Drafts over HTTP: create, read, change, delete, ownership, convert-to-draft, permissions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from task_svc.annotations.models import Annotation
from task_svc.drafts.models import Draft
from task_svc.drafts.schemas import time_ago
from task_svc.labelstream.models import TaskLock
from task_svc.tasks.models import Task

DRAFT_KEYS = {
    "id",
    "result",
    "lead_time",
    "task",
    "annotation",
    "user",
    "was_postponed",
    "import_id",
    "created_at",
    "updated_at",
    "created_username",
    "created_ago",
}


def region(choice: str = "Positive") -> dict[str, Any]:
    return {
        "id": "r1",
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [choice]},
    }


def make_task(client: TestClient, cast: Any, project_id: int, text: str = "hello") -> int:
    answer = client.post(
        "/api/tasks",
        json={"project": project_id, "data": {"text": text}},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    task_id: int = answer.json()["id"]
    return task_id


def annotate(client: TestClient, actor: Any, task_id: int, **body: Any) -> dict[str, Any]:
    answer = client.post(
        f"/api/tasks/{task_id}/annotations",
        json={"result": [region()], **body},
        headers=actor.headers,
    )
    assert answer.status_code == 201, answer.text
    data: dict[str, Any] = answer.json()
    return data


def db_drafts(stack: Any, task_id: int) -> list[Draft]:
    with stack.task_runtime.database.session() as session:
        return list(session.scalars(select(Draft).where(Draft.task_id == task_id)))


@pytest.fixture()
def task_id(client: TestClient, cast: Any, make_project: Any) -> int:
    return make_task(client, cast, make_project())


def test_create_and_read_a_draft(client: TestClient, cast: Any, stack: Any, task_id: int) -> None:
    answer = client.post(
        f"/api/tasks/{task_id}/drafts",
        json={"result": [region()], "lead_time": 3.5},
        headers=cast.annotator.headers,
    )
    assert answer.status_code == 201, answer.text
    draft = answer.json()
    assert set(draft) == DRAFT_KEYS
    assert draft["task"] == task_id
    assert draft["user"] == cast.annotator.user_id
    assert draft["annotation"] is None
    assert draft["was_postponed"] is False
    assert draft["result"] == [region()]
    assert draft["lead_time"] == 3.5
    assert draft["created_username"] == f"{cast.annotator.email}, {cast.annotator.user_id}"
    assert draft["created_ago"] == "0\xa0minutes"
    assert draft["created_at"].endswith("Z")

    rows = db_drafts(stack, task_id)
    assert [(d.id, d.user_id, d.result) for d in rows] == [
        (draft["id"], cast.annotator.user_id, [region()])
    ]

    got = client.get(f"/api/drafts/{draft['id']}", headers=cast.annotator.headers)
    assert got.status_code == 200
    assert got.json() == draft
    listed = client.get(f"/api/tasks/{task_id}/drafts/", headers=cast.annotator.headers)
    assert listed.status_code == 200
    assert listed.json() == [draft]
    # The task shows the caller's drafts.
    task = client.get(f"/api/tasks/{task_id}", headers=cast.annotator.headers).json()
    assert [d["id"] for d in task["drafts"]] == [draft["id"]]
    assert task["draft_exists"] is True


def test_partial_and_empty_results_are_fine_but_unknown_labels_are_not(
    client: TestClient, cast: Any, stack: Any, task_id: int
) -> None:
    empty = client.post(f"/api/tasks/{task_id}/drafts", json={}, headers=cast.annotator.headers)
    assert empty.status_code == 201
    assert empty.json()["result"] == []
    partial = {**region(), "value": {"choices": []}}
    answer = client.post(
        f"/api/tasks/{task_id}/drafts", json={"result": [partial]}, headers=cast.annotator.headers
    )
    assert answer.status_code == 201, answer.text
    as_string = client.post(
        f"/api/tasks/{task_id}/drafts",
        json={
            "result": '[{"from_name": "sentiment", "to_name": "text", "type": "choices",'
            ' "value": {"choices": ["Negative"]}}]'
        },
        headers=cast.annotator.headers,
    )
    assert as_string.status_code == 201, as_string.text
    assert as_string.json()["result"][0]["value"] == {"choices": ["Negative"]}
    before = len(db_drafts(stack, task_id))

    for bad, field in (
        ({"result": [region("Purple")]}, "result"),
        ({"result": [{**region(), "from_name": "nope"}]}, "result"),
        ({"result": "not json"}, "result"),
        ({"result": {"a": 1}}, "result"),
        ({"lead_time": -1}, "lead_time"),
        ({"was_postponed": "maybe"}, "was_postponed"),
    ):
        answer = client.post(
            f"/api/tasks/{task_id}/drafts", json=bad, headers=cast.annotator.headers
        )
        assert answer.status_code == 400, (bad, answer.text)
        assert field in answer.json()["validation_errors"], answer.json()
    assert len(db_drafts(stack, task_id)) == before


def test_update_and_delete_own_draft(
    client: TestClient, cast: Any, stack: Any, task_id: int
) -> None:
    draft = client.post(
        f"/api/tasks/{task_id}/drafts", json={"result": []}, headers=cast.annotator.headers
    ).json()
    changed = client.patch(
        f"/api/drafts/{draft['id']}",
        json={"result": [region("Neutral")], "lead_time": 7},
        headers=cast.annotator.headers,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["result"] == [region("Neutral")]
    assert body["lead_time"] == 7
    assert body["updated_at"] >= draft["updated_at"]
    (row,) = db_drafts(stack, task_id)
    assert row.result == [region("Neutral")]

    bad = client.patch(
        f"/api/drafts/{draft['id']}",
        json={"result": [region("Purple")]},
        headers=cast.annotator.headers,
    )
    assert bad.status_code == 400
    assert "result" in bad.json()["validation_errors"]
    (row,) = db_drafts(stack, task_id)
    assert row.result == [region("Neutral")]

    gone = client.delete(f"/api/drafts/{draft['id']}/", headers=cast.annotator.headers)
    assert gone.status_code == 204
    assert gone.content == b""
    assert db_drafts(stack, task_id) == []
    again = client.get(f"/api/drafts/{draft['id']}", headers=cast.annotator.headers)
    assert again.status_code == 404


def test_only_the_author_sees_or_changes_a_draft(
    client: TestClient, cast: Any, stack: Any, task_id: int
) -> None:
    draft = client.post(
        f"/api/tasks/{task_id}/drafts", json={"result": [region()]}, headers=cast.annotator.headers
    ).json()
    other = client.post(
        f"/api/tasks/{task_id}/drafts", json={"result": []}, headers=cast.annotator2.headers
    ).json()
    url = f"/api/drafts/{draft['id']}"
    for actor in (cast.owner, cast.manager, cast.annotator2, cast.outsider):
        assert client.get(url, headers=actor.headers).status_code == 404
        assert client.patch(url, json={"result": []}, headers=actor.headers).status_code == 404
        assert client.delete(url, headers=actor.headers).status_code == 404
    for method in ("get", "patch", "delete"):
        assert getattr(client, method)(url).status_code == 401
    (row,) = [d for d in db_drafts(stack, task_id) if d.id == draft["id"]]
    assert row.result == [region()]

    # Each user lists only their own drafts of the task.
    mine = client.get(f"/api/tasks/{task_id}/drafts", headers=cast.annotator.headers).json()
    theirs = client.get(f"/api/tasks/{task_id}/drafts", headers=cast.annotator2.headers).json()
    assert [d["id"] for d in mine] == [draft["id"]]
    assert [d["id"] for d in theirs] == [other["id"]]
    assert client.get(f"/api/tasks/{task_id}/drafts", headers=cast.owner.headers).json() == []


def test_task_draft_permission_matrix(
    client: TestClient, cast: Any, stack: Any, task_id: int
) -> None:
    for actor in (cast.owner, cast.manager, cast.annotator):
        answer = client.post(
            f"/api/tasks/{task_id}/drafts", json={"result": []}, headers=actor.headers
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["user"] == actor.user_id
    before = len(db_drafts(stack, task_id))
    outsider = client.post(
        f"/api/tasks/{task_id}/drafts", json={"result": []}, headers=cast.outsider.headers
    )
    assert outsider.status_code == 404
    assert (
        client.get(f"/api/tasks/{task_id}/drafts", headers=cast.outsider.headers).status_code == 404
    )
    assert client.post(f"/api/tasks/{task_id}/drafts", json={}).status_code == 401
    assert client.get(f"/api/tasks/{task_id}/drafts").status_code == 401
    missing = client.post("/api/tasks/999999999/drafts", json={}, headers=cast.owner.headers)
    assert missing.status_code == 404
    assert len(db_drafts(stack, task_id)) == before


def test_draft_on_an_annotation(
    client: TestClient, cast: Any, stack: Any, make_project: Any
) -> None:
    project_id = make_project()
    task_id = make_task(client, cast, project_id)
    other_task = make_task(client, cast, project_id, "other")
    annotation = annotate(client, cast.annotator, task_id)
    url = f"/api/tasks/{task_id}/annotations/{annotation['id']}/drafts"
    answer = client.post(url, json={"result": [region("Negative")]}, headers=cast.manager.headers)
    assert answer.status_code == 201, answer.text
    draft = answer.json()
    assert draft["annotation"] == annotation["id"]
    assert draft["task"] == task_id
    assert draft["user"] == cast.manager.user_id

    # The annotation must belong to the task.
    wrong = client.post(
        f"/api/tasks/{other_task}/annotations/{annotation['id']}/drafts",
        json={},
        headers=cast.manager.headers,
    )
    assert wrong.status_code == 404
    assert client.post(url, json={}, headers=cast.outsider.headers).status_code == 404
    assert client.post(url, json={}).status_code == 401
    assert [d.id for d in db_drafts(stack, task_id)] == [draft["id"]]
    assert db_drafts(stack, other_task) == []

    # Submitting with draft_id consumes the draft and keeps its creation time.
    submitted = annotate(client, cast.manager, task_id, draft_id=draft["id"])
    assert submitted["draft_created_at"] == draft["created_at"]
    assert db_drafts(stack, task_id) == []


def test_convert_annotation_to_draft(
    client: TestClient, cast: Any, stack: Any, make_project: Any
) -> None:
    project_id = make_project()
    task_id = make_task(client, cast, project_id)
    annotation = annotate(client, cast.annotator, task_id, lead_time=12.5)
    url = f"/api/annotations/{annotation['id']}/convert-to-draft"

    # Another annotator may not; an outsider does not even see it; anonymous is 401.
    assert client.post(url, headers=cast.annotator2.headers).status_code == 403
    assert client.post(url, headers=cast.outsider.headers).status_code == 404
    assert client.post(url).status_code == 401
    with stack.task_runtime.database.session() as session:
        assert session.get(Annotation, annotation["id"]) is not None

    answer = client.post(url, headers=cast.annotator.headers)
    assert answer.status_code == 201, answer.text
    draft = answer.json()
    assert set(draft) == DRAFT_KEYS
    assert draft["result"] == annotation["result"]
    assert draft["lead_time"] == 12.5
    assert draft["annotation"] is None
    assert draft["user"] == cast.annotator.user_id
    assert draft["task"] == task_id
    with stack.task_runtime.database.session() as session:
        assert session.get(Annotation, annotation["id"]) is None
        task = session.get(Task, task_id)
        assert task is not None
        assert task.total_annotations == 0
        assert task.is_labeled is False
    project = stack.project.get(f"/api/projects/{project_id}", headers=cast.owner.headers).json()
    assert project["total_annotations_number"] == 0
    assert project["num_tasks_with_annotations"] == 0
    assert project["finished_task_number"] == 0
    assert client.post(url, headers=cast.annotator.headers).status_code == 404

    # A manager may convert anyone's annotation; the draft is the manager's.
    second = annotate(client, cast.annotator2, task_id)
    answer = client.post(
        f"/api/annotations/{second['id']}/convert-to-draft", headers=cast.manager.headers
    )
    assert answer.status_code == 201
    assert answer.json()["user"] == cast.manager.user_id


def test_postponing_gives_up_the_task_lock(
    client: TestClient, cast: Any, stack: Any, make_project: Any
) -> None:
    project_id = make_project()
    task_id = make_task(client, cast, project_id)
    got = client.get(f"/api/projects/{project_id}/next", headers=cast.annotator.headers)
    assert got.status_code == 200
    assert got.json()["id"] == task_id
    with stack.task_runtime.database.session() as session:
        assert session.get(TaskLock, (task_id, cast.annotator.user_id)) is not None
    draft = client.post(
        f"/api/tasks/{task_id}/drafts",
        json={"result": [], "was_postponed": True},
        headers=cast.annotator.headers,
    )
    assert draft.status_code == 201
    assert draft.json()["was_postponed"] is True
    with stack.task_runtime.database.session() as session:
        assert session.get(TaskLock, (task_id, cast.annotator.user_id)) is None


def test_time_ago_reads_like_django() -> None:
    now = datetime(2024, 1, 10, tzinfo=UTC)
    assert time_ago(now - timedelta(seconds=30), now) == "0\xa0minutes"
    assert time_ago(now - timedelta(minutes=1), now) == "1\xa0minute"
    assert time_ago(now - timedelta(hours=2, minutes=5), now) == "2\xa0hours, 5\xa0minutes"
    assert time_ago(now - timedelta(days=1, hours=3), now) == "1\xa0day, 3\xa0hours"
    assert time_ago(now - timedelta(days=9), now) == "1\xa0week, 2\xa0days"

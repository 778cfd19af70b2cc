"""The task, annotation and prediction endpoints' permission matrix, with the DB checked after."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from task_svc.annotations.models import Annotation
from task_svc.counts import service as counts
from task_svc.tasks.models import Task

CHOICE = [
    {
        "id": "r1",
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


def _task(client: TestClient, headers: dict[str, str], project: int, text: str = "hi") -> int:
    answer = client.post(
        "/api/tasks", json={"project": project, "data": {"text": text}}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    task_id: int = answer.json()["id"]
    return task_id


def _task_count(stack: Any, project: int) -> int:
    with stack.task_runtime.database.session() as session:
        return int(session.scalar(select(func.count()).where(Task.project_id == project)) or 0)


@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 201), ("manager", 201), ("annotator", 403), ("outsider", 404), ("anonymous", 401)],
)
def test_creating_a_task(stack: Any, cast: Any, make_project: Any, who: str, expected: int) -> None:
    project = make_project()
    headers = {} if who == "anonymous" else getattr(cast, who).headers
    answer = stack.task.post(
        "/api/tasks", json={"project": project, "data": {"text": "x"}}, headers=headers
    )
    assert answer.status_code == expected, answer.text
    assert _task_count(stack, project) == (1 if expected == 201 else 0)
    assert "Traceback" not in answer.text


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        ("owner", 200, 200),
        ("manager", 200, 200),
        ("annotator", 200, 403),
        ("outsider", 404, 404),
        ("anonymous", 401, 401),
    ],
)
def test_reading_and_changing_a_task(
    stack: Any, cast: Any, make_project: Any, who: str, read: int, write: int
) -> None:
    project = make_project()
    task_id = _task(stack.task, cast.owner.headers, project, "before")
    headers = {} if who == "anonymous" else getattr(cast, who).headers
    assert stack.task.get(f"/api/tasks/{task_id}", headers=headers).status_code == read
    answer = stack.task.patch(
        f"/api/tasks/{task_id}", json={"data": {"text": "after"}}, headers=headers
    )
    assert answer.status_code == write
    with stack.task_runtime.database.session() as session:
        task = session.get(Task, task_id)
        assert task is not None
        assert task.data["text"] == ("after" if write == 200 else "before")
    deleted = stack.task.delete(f"/api/tasks/{task_id}", headers=headers)
    assert deleted.status_code == (204 if write == 200 else write)
    assert _task_count(stack, project) == (0 if write == 200 else 1)


def test_annotators_annotate_but_change_only_their_own(
    stack: Any, cast: Any, make_project: Any
) -> None:
    """Where annotators see each other's work, another's annotation is forbidden to change;
    where they don't (the default), it is not even found."""
    project = make_project(annotators_see_others_annotations=True)
    task_id = _task(stack.task, cast.owner.headers, project)
    mine = stack.task.post(
        f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}, headers=cast.annotator.headers
    )
    assert mine.status_code == 201, mine.text
    annotation_id = mine.json()["id"]
    theirs = stack.task.patch(
        f"/api/annotations/{annotation_id}", json={"result": []}, headers=cast.annotator2.headers
    )
    assert theirs.status_code == 403
    assert (
        stack.task.delete(
            f"/api/annotations/{annotation_id}", headers=cast.outsider.headers
        ).status_code
        == 404
    )
    assert (
        stack.task.post(f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}).status_code
        == 401
    )
    with stack.task_runtime.database.session() as session:
        annotation = session.get(Annotation, annotation_id)
        assert annotation is not None and annotation.result == CHOICE
        assert (
            counts.get_project_counts(session, project_ids=[project])[project][
                "total_annotations_number"
            ]
            == 1
        )
    managed = stack.task.delete(f"/api/annotations/{annotation_id}", headers=cast.manager.headers)
    assert managed.status_code == 204
    with stack.task_runtime.database.session() as session:
        assert (
            counts.get_project_counts(session, project_ids=[project])[project][
                "total_annotations_number"
            ]
            == 0
        )


def test_a_bad_result_is_refused_naming_the_region(
    stack: Any, cast: Any, make_project: Any
) -> None:
    project = make_project()
    task_id = _task(stack.task, cast.owner.headers, project)
    bad = [{**CHOICE[0], "value": {"choices": ["Nonexistent"]}}]
    answer = stack.task.post(
        f"/api/tasks/{task_id}/annotations", json={"result": bad}, headers=cast.annotator.headers
    )
    assert answer.status_code == 400
    assert "result[0]" in answer.text
    with stack.task_runtime.database.session() as session:
        assert session.scalar(select(func.count()).where(Annotation.task_id == task_id)) == 0


def test_a_task_names_who_completed_its_annotations(
    stack: Any, cast: Any, make_project: Any
) -> None:
    project = make_project()
    task_id = _task(stack.task, cast.owner.headers, project)
    stack.task.post(
        f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}, headers=cast.annotator.headers
    )
    answer = stack.task.get(f"/api/tasks/{task_id}", headers=cast.owner.headers)
    completed_by = answer.json()["annotations"][0]["completed_by"]
    assert completed_by["id"] == cast.annotator.user_id
    assert completed_by["email"] == cast.annotator.email
    assert completed_by["initials"] == cast.annotator.email[:2].upper()
    assert set(completed_by) == {"id", "first_name", "last_name", "avatar", "email", "initials"}


def test_an_annotator_outside_the_project_finds_nothing(
    stack: Any, cast: Any, make_project: Any
) -> None:
    """Annotators see only projects they are members of, in task-svc as in project-svc."""
    project = make_project(members=False)
    task = _task(stack.task, cast.owner.headers, project)
    paths = (
        f"/api/tasks/{task}",
        f"/api/tasks?project={project}",
        f"/api/projects/{project}/next",
        f"/api/dm/views?project={project}",
    )
    for path in paths:
        answer = stack.task.get(path, headers=cast.annotator.headers)
        assert answer.status_code == 404, (path, answer.text)
    wrote = stack.task.post(
        f"/api/tasks/{task}/annotations", json={"result": CHOICE}, headers=cast.annotator.headers
    )
    assert wrote.status_code == 404
    admitted = stack.project.post(
        f"/api/projects/{project}/members/",
        json={"user": cast.annotator.user_id},
        headers=cast.owner.headers,
    )
    assert admitted.status_code == 201
    stack.task_runtime.http_app.state.project_directory.forget(
        project
    )  # the directory's short cache
    assert stack.task.get(f"/api/tasks/{task}", headers=cast.annotator.headers).status_code == 200

"""Who sees whose annotations: annotators only their own unless the project's
`annotators_see_others_annotations` is on; reviewers and managers every one. Another's
hidden annotation is 404 on every path that names it, and a refused write changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from labelops_common.auth.principal import Role
from labelops_testing.actors import Actor, create_actor
from task_svc.annotations.models import Annotation

from ..conftest import SECRET  # type: ignore[import-not-found]

CHOICE = [
    {
        "id": "r1",
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


def _reviewer(stack: Any, cast: Any, project: int) -> Actor:
    reviewer = create_actor(
        stack.project_runtime.database,
        organization_id=cast.owner.organization_id,
        role=Role.REVIEWER,
        secret=SECRET,
    )
    admitted = stack.project.post(
        f"/api/projects/{project}/members/",
        json={"user": reviewer.user_id},
        headers=cast.owner.headers,
    )
    assert admitted.status_code == 201, admitted.text
    return reviewer


def _setup(stack: Any, cast: Any, make_project: Any, **fields: Any) -> dict[str, Any]:
    """A task with one annotation by each annotator and a prediction; a reviewer member,
    admitted before task-svc first reads (and caches) the project."""
    project = make_project(**fields)
    reviewer = _reviewer(stack, cast, project)
    task = stack.task.post(
        "/api/tasks", json={"project": project, "data": {"text": "hi"}}, headers=cast.owner.headers
    )
    assert task.status_code == 201, task.text
    task_id = task.json()["id"]
    ids: dict[str, Any] = {"project": project, "task": task_id, "reviewer": reviewer}
    for name, actor in (("mine", cast.annotator), ("theirs", cast.annotator2)):
        made = stack.task.post(
            f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}, headers=actor.headers
        )
        assert made.status_code == 201, made.text
        ids[name] = made.json()["id"]
    prediction = stack.task.post(
        "/api/predictions",
        json={"task": task_id, "result": CHOICE, "model_version": "m1"},
        headers=cast.owner.headers,
    )
    assert prediction.status_code == 201, prediction.text
    return ids


def _seen(stack: Any, actor: Actor, ids: dict[str, Any]) -> dict[str, set[int]]:
    """The annotation ids each read path shows `actor`."""
    task, project = ids["task"], ids["project"]
    detail = stack.task.get(f"/api/tasks/{task}", headers=actor.headers)
    listed = stack.task.get(f"/api/tasks/{task}/annotations", headers=actor.headers)
    project_tasks = stack.task.get(f"/api/projects/{project}/tasks", headers=actor.headers)
    data_manager = stack.task.get(f"/api/tasks?project={project}&fields=all", headers=actor.headers)
    for answer in (detail, listed, project_tasks, data_manager):
        assert answer.status_code == 200, answer.text
    assert len(detail.json()["predictions"]) == 1  # predictions are everyone's
    return {
        "detail": {a["id"] for a in detail.json()["annotations"]},
        "list": {a["id"] for a in listed.json()},
        "project tasks": {a["id"] for a in project_tasks.json()[0]["annotations"]},
        "data manager": {a["id"] for a in data_manager.json()["tasks"][0]["annotations"]},
    }


def test_an_annotator_sees_only_their_own_annotations_by_default(
    stack: Any, cast: Any, make_project: Any
) -> None:
    ids = _setup(stack, cast, make_project)
    seen = _seen(stack, cast.annotator, ids)
    assert seen == {key: {ids["mine"]} for key in seen}
    assert (
        stack.task.get(
            f"/api/annotations/{ids['mine']}", headers=cast.annotator.headers
        ).status_code
        == 200
    )
    hidden = f"/api/annotations/{ids['theirs']}"
    assert stack.task.get(hidden, headers=cast.annotator.headers).status_code == 404
    assert (
        stack.task.patch(hidden, json={"result": []}, headers=cast.annotator.headers).status_code
        == 404
    )
    assert stack.task.delete(hidden, headers=cast.annotator.headers).status_code == 404
    draft_on_hidden = stack.task.post(
        f"/api/tasks/{ids['task']}/annotations/{ids['theirs']}/drafts",
        json={"result": CHOICE},
        headers=cast.annotator.headers,
    )
    assert draft_on_hidden.status_code == 404
    with stack.task_runtime.database.session() as session:
        annotation = session.get(Annotation, ids["theirs"])
        assert annotation is not None and annotation.result == CHOICE


@pytest.mark.parametrize("who", ["reviewer", "manager", "owner"])
def test_reviewers_and_managers_see_every_annotation(
    stack: Any, cast: Any, make_project: Any, who: str
) -> None:
    ids = _setup(stack, cast, make_project)
    actor = ids["reviewer"] if who == "reviewer" else getattr(cast, who)
    seen = _seen(stack, actor, ids)
    assert seen == {key: {ids["mine"], ids["theirs"]} for key in seen}
    assert (
        stack.task.get(f"/api/annotations/{ids['theirs']}", headers=actor.headers).status_code
        == 200
    )


def test_a_reviewer_reads_but_does_not_change_anothers_annotation(
    stack: Any, cast: Any, make_project: Any
) -> None:
    ids = _setup(stack, cast, make_project)
    reviewer = ids["reviewer"]
    changed = stack.task.patch(
        f"/api/annotations/{ids['theirs']}", json={"result": []}, headers=reviewer.headers
    )
    assert changed.status_code == 403
    with stack.task_runtime.database.session() as session:
        annotation = session.get(Annotation, ids["theirs"])
        assert annotation is not None and annotation.result == CHOICE


def test_the_project_setting_shows_annotators_each_others_work(
    stack: Any, cast: Any, make_project: Any
) -> None:
    ids = _setup(stack, cast, make_project, annotators_see_others_annotations=True)
    seen = _seen(stack, cast.annotator, ids)
    assert seen == {key: {ids["mine"], ids["theirs"]} for key in seen}
    assert (
        stack.task.get(
            f"/api/annotations/{ids['theirs']}", headers=cast.annotator.headers
        ).status_code
        == 200
    )


def test_the_setting_is_a_project_field_off_by_default(
    stack: Any, cast: Any, make_project: Any
) -> None:
    project = make_project()
    path = f"/api/projects/{project}"
    assert (
        stack.project.get(path, headers=cast.owner.headers).json()[
            "annotators_see_others_annotations"
        ]
        is False
    )
    changed = stack.project.patch(
        path, json={"annotators_see_others_annotations": True}, headers=cast.manager.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["annotators_see_others_annotations"] is True
    refused = stack.project.patch(
        path, json={"annotators_see_others_annotations": False}, headers=cast.annotator.headers
    )
    assert refused.status_code == 403
    assert (
        stack.project.get(path, headers=cast.owner.headers).json()[
            "annotators_see_others_annotations"
        ]
        is True
    )

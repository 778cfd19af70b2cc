"""Changing a project's `maximum_annotations` moves every task's overlap and `is_labeled`."""

from __future__ import annotations

from typing import Any

from task_svc.counts import service as counts
from task_svc.tasks.models import Task

CHOICE = [
    {
        "id": "r1",
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Negative"]},
    }
]


def _state(stack: Any, project: int, task_ids: list[int]) -> tuple[list[tuple[int, bool]], int]:
    with stack.task_runtime.database.session() as session:
        rows = [session.get(Task, task_id) for task_id in task_ids]
        finished = counts.get_project_counts(session, project_ids=[project])[project][
            "finished_task_number"
        ]
        return [(row.overlap, row.is_labeled) for row in rows if row is not None], finished


def test_raising_and_lowering_maximum_annotations(stack: Any, cast: Any, make_project: Any) -> None:
    project = make_project()
    task_ids = []
    for text in ("a", "b", "c"):
        answer = stack.task.post(
            "/api/tasks",
            json={"project": project, "data": {"text": text}},
            headers=cast.owner.headers,
        )
        task_ids.append(answer.json()["id"])
    for actor in (cast.annotator, cast.annotator2):
        answer = stack.task.post(
            f"/api/tasks/{task_ids[0]}/annotations", json={"result": CHOICE}, headers=actor.headers
        )
        assert answer.status_code == 201
    stack.task.post(
        f"/api/tasks/{task_ids[1]}/annotations",
        json={"result": CHOICE},
        headers=cast.annotator.headers,
    )
    assert _state(stack, project, task_ids) == ([(1, True), (1, True), (1, False)], 2)

    raised = stack.project.patch(
        f"/api/projects/{project}", json={"maximum_annotations": 2}, headers=cast.owner.headers
    )
    assert raised.status_code == 200, raised.text
    assert _state(stack, project, task_ids) == ([(2, True), (2, False), (2, False)], 1)

    lowered = stack.project.patch(
        f"/api/projects/{project}", json={"maximum_annotations": 1}, headers=cast.owner.headers
    )
    assert lowered.status_code == 200
    assert _state(stack, project, task_ids) == ([(1, True), (1, True), (1, False)], 2)
    assert lowered.json()["finished_task_number"] == 2


def test_counting_skips_follows_skip_queue(stack: Any, cast: Any, make_project: Any) -> None:
    project = make_project()
    task = stack.task.post(
        "/api/tasks", json={"project": project, "data": {"text": "x"}}, headers=cast.owner.headers
    ).json()["id"]
    skipped = stack.task.post(
        f"/api/tasks/{task}/annotations?was_cancelled=1",
        json={"result": []},
        headers=cast.annotator.headers,
    )
    assert skipped.status_code == 201
    assert _state(stack, project, [task]) == ([(1, False)], 0)
    answer = stack.project.patch(
        f"/api/projects/{project}",
        json={"skip_queue": "IGNORE_SKIPPED"},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 200
    assert _state(stack, project, [task]) == ([(1, True)], 1)

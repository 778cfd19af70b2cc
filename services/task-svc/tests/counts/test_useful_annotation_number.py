"""`useful_annotation_number` follows Label Studio's rule: annotations that are neither
skipped nor ground truth; kept on every write, including ground-truth changes."""

from __future__ import annotations

from typing import Any

from task_svc.counts import service as counts

REGION = {
    "from_name": "sentiment",
    "to_name": "text",
    "type": "choices",
    "value": {"choices": ["Positive"]},
}


def _counters(stack: Any, project: int) -> dict[str, int]:
    with stack.task_runtime.database.session() as session:
        return counts.get_project_counts(session, project_ids=[project])[project]


def _annotate(stack: Any, actor: Any, task: int, **extra: Any) -> int:
    answer = stack.task.post(
        f"/api/tasks/{task}/annotations", json={"result": [REGION], **extra}, headers=actor.headers
    )
    assert answer.status_code == 201, answer.text
    annotation_id: int = answer.json()["id"]
    return annotation_id


def test_ground_truth_and_skips_are_not_useful(stack: Any, cast: Any, make_project: Any) -> None:
    project = make_project()
    task = stack.task.post(
        "/api/tasks", json={"project": project, "data": {"text": "t"}}, headers=cast.owner.headers
    ).json()["id"]
    plain = _annotate(stack, cast.annotator, task)
    truth = _annotate(stack, cast.owner, task, ground_truth=True)
    _annotate(stack, cast.annotator2, task, was_cancelled=True)
    found = _counters(stack, project)
    assert (found["total_annotations_number"], found["useful_annotation_number"]) == (2, 1)
    assert found["ground_truth_number"] == 1

    unmarked = stack.task.patch(
        f"/api/annotations/{truth}", json={"ground_truth": False}, headers=cast.owner.headers
    )
    assert unmarked.status_code == 200, unmarked.text
    assert _counters(stack, project)["useful_annotation_number"] == 2

    stack.task.delete(f"/api/annotations/{plain}", headers=cast.owner.headers)
    assert _counters(stack, project)["useful_annotation_number"] == 1

    stack.task.delete(f"/api/tasks/{task}", headers=cast.owner.headers)
    assert _counters(stack, project)["useful_annotation_number"] == 0


def test_imported_annotations_are_ground_truth_so_not_useful(
    stack: Any, cast: Any, make_project: Any
) -> None:
    project = make_project()
    answer = stack.task.post(
        f"/api/projects/{project}/import",
        json=[
            {"data": {"text": "a"}, "annotations": [{"result": [REGION]}]},
            {"data": {"text": "b"}, "annotations": [{"result": [REGION], "ground_truth": False}]},
        ],
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    found = _counters(stack, project)
    assert (found["total_annotations_number"], found["useful_annotation_number"]) == (2, 1)

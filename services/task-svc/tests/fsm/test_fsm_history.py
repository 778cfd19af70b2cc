"""State histories (issue 19, part 2): the rows task-svc's writes record, in order, with
Label Studio's filters and pagination, visible only inside the caller's projects."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import World


def test_task_annotation_and_project_histories_follow_the_writes(world: World) -> None:
    cast = world.cast
    task = world.task()
    annotation = world.annotate(task)
    updated = world.client.patch(
        f"/api/annotations/{annotation}",
        json={"result": [{**_region(), "value": {"choices": ["Negative"]}}]},
        headers=cast.annotator.headers,
    )
    assert updated.status_code == 200, updated.text
    deleted = world.client.delete(f"/api/annotations/{annotation}", headers=cast.manager.headers)
    assert deleted.status_code == 204

    assert world.transitions("task", task) == [
        (None, "CREATED", "task_created"),
        ("CREATED", "COMPLETED", "task_completed"),
        ("COMPLETED", "IN_PROGRESS", "task_in_progress"),
    ]
    # A deleted annotation keeps its history, its last row saying where it went.
    assert world.transitions("annotation", annotation) == [
        (None, "CREATED", "annotation_submitted"),
        ("CREATED", "CREATED", "annotation_updated"),
        ("CREATED", "DELETED", "annotation_deleted"),
    ]
    # One task: labelling it completes the project; deleting its annotation reopens it.
    assert world.transitions("project", world.project) == [
        ("CREATED", "COMPLETED", "project_completed"),
        ("COMPLETED", "IN_PROGRESS", "project_in_progress_from_completed"),
    ]
    who = [row.triggered_by_id for row in world.rows("task", task)]
    assert who == [cast.owner.user_id, cast.annotator.user_id, cast.manager.user_id]
    assert [r.triggered_by_id for r in world.rows("annotation", annotation)] == [
        cast.annotator.user_id,
        cast.annotator.user_id,
        cast.manager.user_id,
    ]
    assert world.stored_task_state(task) == "IN_PROGRESS"

    newest = world.history("task", task).json()
    assert newest["count"] == 3
    first = newest["results"][0]
    assert first["state"] == "IN_PROGRESS"
    assert first["triggered_by"] == {"id": cast.manager.user_id, "email": cast.manager.email}
    assert first["reason"] and first["context_data"] == {"is_labeled": False}
    assert first["created_at"].endswith("Z")


def _region() -> dict[str, Any]:
    from .conftest import region

    return region()


def test_overlap_moves_a_task_through_in_progress(world: World, make_project: Any) -> None:
    project = make_project(maximum_annotations=2)
    task = world.task(project=project)
    world.annotate(task, world.cast.annotator)
    assert world.stored_task_state(task) == "IN_PROGRESS"
    world.annotate(task, world.cast.annotator2)
    assert world.transitions("task", task) == [
        (None, "CREATED", "task_created"),
        ("CREATED", "IN_PROGRESS", "task_in_progress"),
        ("IN_PROGRESS", "COMPLETED", "task_completed"),
    ]
    assert world.transitions("project", project) == [
        ("CREATED", "IN_PROGRESS", "project_in_progress"),
        ("IN_PROGRESS", "COMPLETED", "project_completed"),
    ]


def test_a_bulk_action_records_each_task_it_moves(world: World) -> None:
    tasks = [world.task() for _ in range(3)]
    for task in tasks[:2]:
        world.annotate(task)
    answer = world.client.post(
        f"/api/dm/actions?project={world.project}&id=delete_tasks_annotations",
        json={"selectedItems": {"all": True, "excluded": []}},
        headers=world.cast.manager.headers,
    )
    assert answer.status_code == 200, answer.text
    for task in tasks[:2]:
        assert world.transitions("task", task)[-1] == (
            "COMPLETED",
            "IN_PROGRESS",
            "task_in_progress",
        )
        assert world.rows("task", task)[-1].triggered_by_id == world.cast.manager.user_id
    # The untouched task recorded nothing more.
    assert world.transitions("task", tasks[2]) == [(None, "CREATED", "task_created")]


def test_filters(world: World) -> None:
    cast = world.cast
    task = world.task()
    annotation = world.annotate(task)
    world.client.delete(f"/api/annotations/{annotation}", headers=cast.manager.headers)
    rows = world.rows("task", task)

    def names(**params: Any) -> list[str]:
        answer = world.history("task", task, ordering="id", **params)
        assert answer.status_code == 200, answer.text
        return [row["transition_name"] for row in answer.json()["results"]]

    assert names(state="completed") == ["task_completed"]
    assert names(previous_state="COMPLETED") == ["task_in_progress"]
    assert names(transition_name="TASK_CREATED") == ["task_created"]
    assert names(triggered_by=cast.annotator.user_id) == ["task_completed"]
    second = rows[1].created_at.isoformat()
    assert names(created_at_from=second) == ["task_completed", "task_in_progress"]
    assert names(created_at_to=second) == ["task_created", "task_completed"]
    assert names(created_at_from=second, created_at_to=second) == ["task_completed"]
    assert names(state="REVIEWED") == []
    assert names() == ["task_created", "task_completed", "task_in_progress"]
    newest_first = world.history("task", task).json()["results"]
    assert [row["transition_name"] for row in newest_first] == [
        "task_in_progress",
        "task_completed",
        "task_created",
    ]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("created_at_from", "yesterday"),
        ("created_at_to", "2026-13-45"),
        ("triggered_by", "someone"),
        ("ordering", "state"),
        ("page_size", "many"),
    ],
)
def test_bad_filters_are_400s_naming_the_field(world: World, param: str, value: str) -> None:
    task = world.task()
    answer = world.history("task", task, **{param: value})
    assert answer.status_code == 400, answer.text
    assert param in answer.json()["validation_errors"]


def test_pagination(world: World) -> None:
    task = world.task()
    annotation = world.annotate(task)
    world.client.delete(f"/api/annotations/{annotation}", headers=world.cast.manager.headers)
    first = world.history("task", task, ordering="id", page_size=2).json()
    assert first["count"] == 3
    assert [row["state"] for row in first["results"]] == ["CREATED", "COMPLETED"]
    assert first["previous"] is None
    assert "page=2" in first["next"]
    second = world.history("task", task, ordering="id", page_size=2, page=2).json()
    assert [row["state"] for row in second["results"]] == ["IN_PROGRESS"]
    assert second["next"] is None and second["previous"] is not None
    assert world.history("task", task, page_size=2, page=3).status_code == 404


def test_unknown_entity_name_is_a_400_naming_it(world: World) -> None:
    task = world.task()
    answer = world.history("comment", task)
    assert answer.status_code == 400
    assert "comment" in answer.json()["validation_errors"]["entity_name"][0]


def test_another_organizations_entities_are_not_found(world: World) -> None:
    task = world.task()
    annotation = world.annotate(task)
    outsider = world.cast.outsider
    for entity, entity_id in (
        ("task", task),
        ("annotation", annotation),
        ("project", world.project),
    ):
        assert world.history(entity, entity_id, outsider).status_code == 404
    assert world.history("task", 10**12).status_code == 404
    # An annotator outside the project's members does not see it either.
    hidden = world.task(project=_project_without_members(world))
    assert world.history("task", hidden, world.cast.annotator).status_code == 404
    assert world.client.get(f"/api/fsm/entities/task/{task}/history").status_code == 401


def _project_without_members(world: World) -> int:
    answer = world.stack.project.post(
        "/api/projects",
        json={"title": "Private", "label_config": "<View><Text name='t' value='$text'/></View>"},
        headers=world.cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    project_id: int = answer.json()["id"]
    return project_id


def test_an_annotator_does_not_see_who_triggered_a_change(world: World) -> None:
    task = world.task()
    results = world.history("task", task, world.cast.annotator).json()["results"]
    assert [row["state"] for row in results] == ["CREATED"]
    assert results[0]["triggered_by"] is None


def test_a_deleted_tasks_history_stays_inside_its_project(world: World) -> None:
    task = world.task()
    deleted = world.client.delete(f"/api/tasks/{task}", headers=world.cast.owner.headers)
    assert deleted.status_code == 204, deleted.text
    assert world.transitions("task", task) == [(None, "CREATED", "task_created")]
    assert world.history("task", task, world.cast.outsider).status_code == 404
    # Nothing to move any more.
    assert world.transition("task", task, "task_completed").status_code == 404

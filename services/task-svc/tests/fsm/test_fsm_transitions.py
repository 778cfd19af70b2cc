"""Manual transitions (issue 19, part 2): Label Studio's manual task and project
transitions by name, by managers and above, refused with the name when unknown, only
triggered by writes, or not allowed from the current state."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import World


def test_a_manager_completes_a_task_by_hand(world: World) -> None:
    task = world.task()
    answer = world.transition("task", task, "task_completed", transition_data={"note": "ok"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["success"] is True and body["new_state"] == "COMPLETED"
    record = body["state_record"]
    assert record["previous_state"] == "CREATED"
    assert record["transition_name"] == "task_completed"
    assert record["triggered_by"]["id"] == world.cast.manager.user_id
    assert record["context_data"]["transition_data"] == {"note": "ok"}
    assert world.stored_task_state(task) == "COMPLETED"
    rows = world.rows("task", task)
    assert [(r.state, r.triggered_by_id) for r in rows] == [
        ("CREATED", world.cast.owner.user_id),
        ("COMPLETED", world.cast.manager.user_id),
    ]
    assert str(rows[-1].id) == record["id"]
    # Back from COMPLETED by hand; from IN_PROGRESS `task_in_progress` is not allowed.
    back = world.transition("task", task, "task_in_progress", world.cast.owner)
    assert back.status_code == 200, back.text
    again = world.transition("task", task, "task_in_progress")
    assert again.status_code == 409
    assert "IN_PROGRESS" in again.json()["validation_errors"]["transition_name"][0]
    assert len(world.rows("task", task)) == 3


def test_a_hand_moved_task_follows_its_annotations_again(world: World) -> None:
    task = world.task()
    assert world.transition("task", task, "task_completed").status_code == 200
    annotation = world.annotate(task)
    # Labelled: COMPLETED already, nothing to record.
    assert world.stored_task_state(task) == "COMPLETED"
    world.client.delete(f"/api/annotations/{annotation}", headers=world.cast.manager.headers)
    assert world.transitions("task", task)[-1] == ("COMPLETED", "IN_PROGRESS", "task_in_progress")


def test_project_transitions(world: World) -> None:
    answer = world.transition("project", world.project, "project_in_progress")
    assert answer.status_code == 200, answer.text
    assert answer.json()["new_state"] == "IN_PROGRESS"
    assert world.transition("project", world.project, "project_in_progress").status_code == 409
    done = world.transition("project", world.project, "project_completed")
    assert done.status_code == 200, done.text
    assert world.transitions("project", world.project) == [
        ("CREATED", "IN_PROGRESS", "project_in_progress"),
        ("IN_PROGRESS", "COMPLETED", "project_completed"),
    ]


@pytest.mark.parametrize(
    ("entity", "name", "reason"),
    [
        ("task", "task_archived", "Unknown transition 'task_archived'"),
        ("task", "task_created", "cannot be executed manually"),
        ("annotation", "annotation_submitted", "cannot be executed manually"),
        ("annotation", "annotation_reviewed", "no manual transitions"),
        ("project", "project_created", "cannot be executed manually"),
    ],
)
def test_unknown_or_automatic_transitions_are_400s_naming_them(
    world: World, entity: str, name: str, reason: str
) -> None:
    task = world.task()
    entity_id = {"task": task, "annotation": world.annotate(task), "project": world.project}
    before = len(world.rows(entity, entity_id[entity]))
    answer = world.transition(entity, entity_id[entity], name)
    assert answer.status_code == 400, answer.text
    message = answer.json()["validation_errors"]["transition_name"][0]
    assert reason in message and name in message
    assert len(world.rows(entity, entity_id[entity])) == before


@pytest.mark.parametrize(
    "body",
    [{}, {"transition_name": ""}, {"transition_name": "task_completed", "transition_data": 3}],
)
def test_bad_bodies_are_400s(world: World, body: dict[str, Any]) -> None:
    task = world.task()
    answer = world.client.post(
        f"/api/fsm/entities/task/{task}/transition/", json=body, headers=world.cast.manager.headers
    )
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["validation_errors"]
    assert world.stored_task_state(task) == "CREATED"


@pytest.mark.parametrize(("who", "expected"), [("annotator", 403), ("outsider", 404)])
def test_only_managers_of_the_project_transition(world: World, who: str, expected: int) -> None:
    task = world.task()
    answer = world.transition("task", task, "task_completed", getattr(world.cast, who))
    assert answer.status_code == expected, answer.text
    assert world.stored_task_state(task) == "CREATED"
    assert len(world.rows("task", task)) == 1
    anonymous = world.client.post(
        f"/api/fsm/entities/task/{task}/transition/", json={"transition_name": "task_completed"}
    )
    assert anonymous.status_code == 401


def test_unknown_entity_name_is_a_400(world: World) -> None:
    answer = world.transition("comment", world.task(), "task_completed")
    assert answer.status_code == 400
    assert "entity_name" in answer.json()["validation_errors"]

"""`/api/projects/{id}/tasks/{task}/assignees` and `/api/projects/{id}/assignments`."""

from __future__ import annotations

import time

from .conftest import MakeWorld, World  # type: ignore[import-not-found]


def test_one_task_assign_list_replace_and_remove(world: World) -> None:
    task = world.tasks[0]
    url = f"/api/projects/{world.project}/tasks/{task}/assignees"
    manager = world.cast.manager.headers
    annotator, other = world.cast.annotator.user_id, world.cast.annotator2.user_id
    made = world.client.post(url, json={"type": "AN", "users": [annotator]}, headers=manager)
    assert made.status_code == 201, made.text
    assert made.json()["assignee"] == annotator
    assert made.json()["task"] == task
    assert made.json()["type"] == "AN"
    listed = world.client.get(url, headers=manager)
    assert [(row["assignee"], row["type"]) for row in listed.json()] == [(annotator, "AN")]
    replaced = world.client.patch(url, json={"type": "AN", "users": [other]}, headers=manager)
    assert replaced.status_code == 200, replaced.text
    assert world.rows() == [(task, other, "annotate")]
    refused = world.client.post(
        url, json={"users": [annotator]}, headers=world.cast.annotator.headers
    )
    assert refused.status_code in (403, 404)
    removed = world.client.delete(url, params={"type": "AN", "users": str(other)}, headers=manager)
    assert removed.status_code == 204
    assert world.rows() == []
    elsewhere = world.client.get(
        f"/api/projects/{world.project + 1000000}/tasks/{task}/assignees", headers=manager
    )
    assert elsewhere.status_code == 404


def test_queues_count_assigned_and_done(world: World) -> None:
    annotator = world.cast.annotator
    world.assign(annotator, world.tasks[:3])
    world.assign(world.reviewer, world.tasks[:1], kind="RE")
    world.annotate(annotator, world.tasks[0])
    answer = world.client.get(
        f"/api/projects/{world.project}/assignments", headers=world.cast.manager.headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == [
        {"user": annotator.user_id, "type": "AN", "assigned": 3, "done": 1, "open": 2},
        {"user": world.reviewer.user_id, "type": "RE", "assigned": 1, "done": 0, "open": 1},
    ]
    forbidden = world.client.get(
        f"/api/projects/{world.project}/assignments", headers=annotator.headers
    )
    assert forbidden.status_code == 403


def test_a_reservation_runs_out_after_the_project_timeout(make_world: MakeWorld) -> None:
    world = make_world(
        tasks=1, label_stream_task_distribution="auto_distribution", reservation_timeout_seconds=1
    )
    first, second = world.cast.annotator, world.cast.annotator2
    assert world.next_task(first) == world.tasks[0]
    assert world.next_task(second) is None
    time.sleep(1.2)
    assert world.next_task(second) == world.tasks[0]
    assert world.next_task(first) is None

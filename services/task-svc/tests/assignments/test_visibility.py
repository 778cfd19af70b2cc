"""Where a project hands out work by assignment, an annotator sees and labels only their
assigned tasks: the label stream, the task lists and a task by id."""

from __future__ import annotations

from .conftest import MakeWorld, World  # type: ignore[import-not-found]


def test_label_stream_gives_only_assigned_unfinished_tasks(world: World) -> None:
    annotator, other = world.cast.annotator, world.cast.annotator2
    mine = [world.tasks[4], world.tasks[1]]
    world.assign(annotator, mine)
    assert world.next_task(other) is None
    served = []
    for _ in range(2):
        task_id = world.next_task(annotator)
        assert task_id is not None
        served.append(task_id)
        world.annotate(annotator, task_id)
    assert served == sorted(mine)
    assert world.next_task(annotator) is None


def test_lists_and_by_id_show_an_annotator_only_their_tasks(world: World) -> None:
    annotator = world.cast.annotator
    world.assign(annotator, world.tasks[:2])
    assert world.listed(annotator) == world.tasks[:2]
    assert world.listed(world.cast.annotator2) == []
    assert world.listed(world.cast.manager) == world.tasks
    assert world.listed(world.reviewer) == world.tasks
    answer = world.client.get(
        "/api/tasks", params={"project": world.project}, headers=annotator.headers
    )
    assert answer.json()["total"] == 2
    assert (
        world.client.get(f"/api/tasks/{world.tasks[0]}", headers=annotator.headers).status_code
        == 200
    )
    hidden = world.client.get(f"/api/tasks/{world.tasks[3]}", headers=annotator.headers)
    assert hidden.status_code == 404
    annotate_hidden = world.client.post(
        f"/api/tasks/{world.tasks[3]}/annotations",
        json={"result": []},
        headers=annotator.headers,
    )
    assert annotate_hidden.status_code == 404
    plain = world.client.get(f"/api/projects/{world.project}/tasks", headers=annotator.headers)
    assert plain.status_code == 200
    assert sorted(task["id"] for task in plain.json()) == world.tasks[:2]


def test_auto_distribution_shows_every_task(make_world: MakeWorld) -> None:
    world = make_world(tasks=3, label_stream_task_distribution="auto_distribution")
    world.assign(world.cast.annotator2, world.tasks[:1])
    assert world.listed(world.cast.annotator) == world.tasks
    assert world.next_task(world.cast.annotator) == world.tasks[0]


def test_assignees_column_and_filter(world: World) -> None:
    annotator = world.cast.annotator.user_id
    world.assign(world.cast.annotator, world.tasks[1:3])
    answer = world.client.get(
        "/api/tasks", params={"project": world.project}, headers=world.cast.manager.headers
    )
    rows = {task["id"]: task["assignees"] for task in answer.json()["tasks"]}
    assert rows[world.tasks[1]] == [annotator]
    assert rows[world.tasks[0]] == []
    item = {"filter": "filter:tasks:assignees", "type": "List", "value": annotator}
    contains = {"filters": {"conjunction": "and", "items": [{**item, "operator": "contains"}]}}
    assert world.listed(world.cast.manager, contains) == world.tasks[1:3]
    unassigned = {
        "filters": {
            "conjunction": "and",
            "items": [{**item, "operator": "empty", "type": "Boolean", "value": True}],
        }
    }
    assert world.listed(world.cast.manager, unassigned) == [world.tasks[0], *world.tasks[3:]]
    bad = world.client.get(
        "/api/tasks",
        params={
            "project": world.project,
            "query": '{"filters": {"conjunction": "and", "items": [{"filter": '
            '"filter:tasks:assignees", "operator": "contains", "type": "List", "value": "x"}]}}',
        },
        headers=world.cast.manager.headers,
    )
    assert bad.status_code == 400
    columns = world.client.get(
        "/api/dm/columns", params={"project": world.project}, headers=world.cast.manager.headers
    )
    assert "assignees" in {column["id"] for column in columns.json()["columns"]}

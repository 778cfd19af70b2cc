"""`POST /api/projects/{id}/tasks/assignees` and the data manager's assign actions: the
selection, the cap, who may assign and who may be assigned, and the DB after."""

from __future__ import annotations

from typing import Any

from .conftest import MakeWorld, World  # type: ignore[import-not-found]


def test_assigns_the_selected_tasks_once(world: World) -> None:
    first, second, *_ = world.tasks
    body = {
        "type": "AN",
        "users": [world.cast.annotator.user_id],
        "selectedItems": {"all": False, "included": [first, second]},
    }
    answer = world.bulk(body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"assignments": 2}
    again = world.bulk(body)
    assert again.json() == {"assignments": 0}
    user = world.cast.annotator.user_id
    assert world.rows() == [(first, user, "annotate"), (second, user, "annotate")]


def test_all_but_excluded_within_filters(make_world: MakeWorld) -> None:
    world = make_world(tasks=5)
    excluded = world.tasks[0]
    filters = {
        "conjunction": "and",
        "items": [
            {
                "filter": "filter:tasks:id",
                "operator": "less_or_equal",
                "type": "Number",
                "value": world.tasks[3],
            }
        ],
    }
    answer = world.bulk(
        {
            "type": "RE",
            "users": [world.reviewer.user_id, world.cast.manager.user_id],
            "selectedItems": {"all": True, "excluded": [excluded]},
            "filters": filters,
        }
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"assignments": 6}
    assert {row[0] for row in world.rows()} == set(world.tasks[1:4])
    assert {row[2] for row in world.rows()} == {"review"}


def test_a_cap_exceeded_is_400_naming_the_user_and_changes_nothing(world: World) -> None:
    annotator = world.cast.annotator
    world.assign(annotator, world.tasks[:2])
    before = world.rows()
    answer = world.bulk(
        {
            "type": "AN",
            "users": [world.cast.annotator2.user_id, annotator.user_id],
            "selectedItems": {"all": False, "included": world.tasks[2:4]},
        }
    )
    assert answer.status_code == 400, answer.text
    reasons = answer.json()["validation_errors"]["users"]
    assert reasons == [
        f"User {annotator.user_id} would hold 4 open tasks; this project's cap "
        "(max_tasks_per_person) is 3."
    ]
    assert world.rows() == before


def test_the_cap_counts_open_tasks_only(world: World) -> None:
    annotator = world.cast.annotator
    world.assign(annotator, world.tasks[:3])
    world.annotate(annotator, world.tasks[0])
    world.assign(annotator, [world.tasks[3]])
    assert len(world.rows()) == 4


def test_assignees_must_work_in_the_project(world: World) -> None:
    outsider = world.bulk(
        {
            "users": [world.cast.outsider.user_id],
            "selectedItems": {"all": False, "included": world.tasks[:1]},
        }
    )
    assert outsider.status_code == 400
    assert outsider.json()["validation_errors"]["users"] == [
        f"User {world.cast.outsider.user_id} is not a member of this project."
    ]
    annotator_as_reviewer = world.bulk(
        {
            "type": "RE",
            "users": [world.cast.annotator.user_id],
            "selectedItems": {"all": False, "included": world.tasks[:1]},
        }
    )
    assert annotator_as_reviewer.status_code == 400
    assert "cannot be assigned to review" in str(annotator_as_reviewer.json())
    assert world.rows() == []


def test_bad_bodies_are_400_naming_the_field(world: World) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"users": [world.cast.annotator.user_id]}, "selectedItems"),
        ({"users": [], "selectedItems": {"all": True}}, "users"),
        ({"type": "XX", "users": [1], "selectedItems": {"all": True}}, "type"),
        (
            {"users": [world.cast.annotator.user_id], "selectedItems": {"all": "yes"}},
            "selectedItems",
        ),
    ]
    for body, field in cases:
        answer = world.bulk(body)
        assert answer.status_code == 400, (body, answer.text)
        assert field in str(answer.json()["validation_errors"]), answer.text
    assert world.rows() == []


def test_only_managers_and_up_assign(world: World) -> None:
    body = {
        "users": [world.cast.annotator.user_id],
        "selectedItems": {"all": False, "included": world.tasks[:1]},
    }
    assert world.bulk(body, actor=world.cast.annotator).status_code == 403
    assert world.bulk(body, actor=world.reviewer).status_code == 403
    assert world.bulk(body, actor=world.cast.outsider).status_code == 404
    anonymous = world.client.post(f"/api/projects/{world.project}/tasks/assignees", json=body)
    assert anonymous.status_code == 401
    assert world.bulk(body, actor=world.cast.owner).status_code == 200
    assert len(world.rows()) == 1


def _action(world: World, action_id: str, body: dict[str, Any], actor: Any = None) -> Any:
    return world.client.post(
        "/api/dm/actions",
        params={"project": world.project, "id": action_id},
        json=body,
        headers=(actor or world.cast.manager).headers,
    )


def test_data_manager_actions_assign_and_unassign(world: World) -> None:
    annotator = world.cast.annotator.user_id
    selected = {"all": False, "included": world.tasks[:3]}
    made = _action(world, "assign_tasks", {"selectedItems": selected, "users": [annotator]})
    assert made.status_code == 200, made.text
    assert made.json()["processed_items"] == 3
    assert [row[0] for row in world.rows()] == world.tasks[:3]
    refused = _action(
        world,
        "assign_tasks",
        {"selectedItems": selected, "users": [annotator]},
        actor=world.cast.annotator,
    )
    assert refused.status_code == 403
    removed = _action(
        world,
        "unassign_tasks",
        {"selectedItems": {"all": False, "included": world.tasks[:2]}, "users": [annotator]},
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["processed_items"] == 2
    assert [row[0] for row in world.rows()] == [world.tasks[2]]
    listed = world.client.get(
        "/api/dm/actions", params={"project": world.project}, headers=world.cast.manager.headers
    )
    assert {"assign_tasks", "unassign_tasks"} <= {a["id"] for a in listed.json()}
    hidden = world.client.get(
        "/api/dm/actions", params={"project": world.project}, headers=world.cast.annotator.headers
    )
    assert "assign_tasks" not in {a["id"] for a in hidden.json()}

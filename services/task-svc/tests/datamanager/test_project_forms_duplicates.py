"""`/api/dm/project/`, `/api/dm/actions/{id}/form/` and the `remove_duplicates` action."""

from __future__ import annotations

import pytest

from .conftest import World, headers_of  # type: ignore[import-not-found]

ALL = {"selectedItems": {"all": True, "excluded": []}}


def test_dm_project_gives_data_types_sizes_and_rights(world: World) -> None:
    first = world.task("a")
    world.annotate(first)
    world.annotate(world.task("b"), was_cancelled=True)
    answer = world.client.get(
        "/api/dm/project", params={"project": world.project}, headers=world.cast.owner.headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == world.project
    assert body["data_types"] == {"text": "Text"}
    assert (body["task_count"], body["annotation_count"]) == (2, 2)
    assert body["can_manage_tasks"] is True
    annotator = world.client.get(
        "/api/dm/project", params={"project": world.project}, headers=world.cast.annotator.headers
    ).json()
    assert annotator["can_delete_tasks"] is False


@pytest.mark.parametrize(("who", "status"), [("owner", 200), ("outsider", 404), ("anonymous", 401)])
def test_dm_project_is_scoped_to_the_organization(world: World, who: str, status: int) -> None:
    answer = world.client.get(
        "/api/dm/project", params={"project": world.project}, headers=headers_of(world.cast, who)
    )
    assert answer.status_code == status


def test_dm_project_needs_a_project(world: World) -> None:
    answer = world.client.get("/api/dm/project", headers=world.cast.owner.headers)
    assert answer.status_code == 400
    assert "project" in answer.json()["validation_errors"]


def test_action_forms_list_what_the_project_holds(world: World) -> None:
    task = world.task()
    world.predict(task, model_version="m2")
    world.predict(task, model_version="m1")
    world.annotate(task, actor=world.cast.annotator)

    def form(action_id: str) -> object:
        answer = world.client.get(
            f"/api/dm/actions/{action_id}/form",
            params={"project": world.project},
            headers=world.cast.owner.headers,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    versions = form("predictions_to_annotations")
    assert versions[0]["fields"][0]["name"] == "model_version"  # type: ignore[index]
    assert versions[0]["fields"][0]["options"] == ["m1", "m2"]  # type: ignore[index]
    annotators = form("delete_tasks_annotations")
    options = annotators[0]["fields"][0]["options"]  # type: ignore[index]
    assert [option["value"] for option in options] == [world.cast.annotator.user_id]
    assert form("delete_tasks") is None
    unknown = world.client.get(
        "/api/dm/actions/no_such_action/form",
        params={"project": world.project},
        headers=world.cast.owner.headers,
    )
    assert unknown.status_code == 404


def test_remove_duplicates_keeps_the_first_and_moves_annotations(world: World) -> None:
    first = world.task("same")
    unique = world.task("different")
    second = world.task("same")
    third = world.task("same")
    world.annotate(second, actor=world.cast.annotator)
    world.annotate(third, actor=world.cast.annotator2, was_cancelled=True)
    world.predict(third)

    answer = world.action("remove_duplicates", ALL)
    assert answer.status_code == 200, answer.text
    assert answer.json()["detail"] == "Removed 2 tasks"

    assert sorted(world.task_rows()) == [first, unique]
    assert {a.task_id for a in world.annotation_rows()} == {first}
    assert len(world.annotation_rows()) == 2
    assert world.prediction_rows() == []  # predictions go with their task, as in Label Studio
    world.assert_counters_exact()


def test_remove_duplicates_is_for_managers(world: World) -> None:
    world.task("same")
    world.task("same")
    answer = world.action("remove_duplicates", ALL, actor=world.cast.annotator)
    assert answer.status_code == 403
    assert len(world.task_rows()) == 2


def test_remove_duplicates_is_listed(world: World) -> None:
    answer = world.client.get(
        "/api/dm/actions", params={"project": world.project}, headers=world.cast.owner.headers
    )
    assert "remove_duplicates" in [action["id"] for action in answer.json()]

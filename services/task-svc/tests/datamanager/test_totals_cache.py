"""Filtered totals are cached per tasks version: every write shows in the next answer."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import World, choice  # type: ignore[import-not-found]

UNLABELED = {
    "filters": {
        "conjunction": "and",
        "items": [
            {
                "filter": "filter:tasks:total_annotations",
                "operator": "equal",
                "type": "Number",
                "value": 0,
            }
        ],
    }
}
CATEGORY_A = {
    "filters": {
        "conjunction": "and",
        "items": [
            {
                "filter": "filter:tasks:data.category",
                "operator": "equal",
                "type": "String",
                "value": "a",
            }
        ],
    },
    "ordering": ["tasks:data.text"],
}
POSITIVE_RESULTS = {
    "filters": {
        "conjunction": "and",
        "items": [
            {
                "filter": "filter:tasks:annotations_results",
                "operator": "contains",
                "type": "String",
                "value": "Positive",
            }
        ],
    }
}


def totals(world: World, query: dict[str, Any], page: int = 1) -> tuple[int, int, int]:
    answer = world.tasks(query=query, page=page, page_size=1)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return body["total"], body["total_annotations"], body["total_predictions"]


@pytest.fixture()
def three(world: World) -> tuple[World, list[int]]:
    ids = [world.task(f"text {n}", category="a") for n in range(3)]
    assert totals(world, CATEGORY_A) == (3, 0, 0)  # counted once, now cached
    assert totals(world, UNLABELED) == (3, 0, 0)
    return world, ids


def test_a_patch_of_task_data_changes_the_total_at_once(three: tuple[World, list[int]]) -> None:
    world, ids = three
    answer = world.client.patch(
        f"/api/tasks/{ids[0]}",
        json={"data": {"text": "text 0", "category": "b"}},
        headers=world.cast.owner.headers,
    )
    assert answer.status_code == 200, answer.text
    assert totals(world, CATEGORY_A) == (2, 0, 0)
    assert totals(world, CATEGORY_A, page=2) == (2, 0, 0)  # later pages read the same entry


def test_an_annotation_and_its_deletion_change_the_total_at_once(
    three: tuple[World, list[int]],
) -> None:
    world, ids = three
    annotation = world.annotate(ids[1])
    assert totals(world, UNLABELED) == (2, 0, 0)
    assert totals(world, CATEGORY_A) == (3, 1, 0)
    answer = world.client.delete(f"/api/annotations/{annotation}", headers=world.cast.owner.headers)
    assert answer.status_code == 204, answer.text
    assert totals(world, UNLABELED) == (3, 0, 0)


def test_an_annotation_update_changes_a_results_filter_at_once(
    three: tuple[World, list[int]],
) -> None:
    world, ids = three
    annotation = world.annotate(ids[0], label="Negative")
    assert totals(world, POSITIVE_RESULTS) == (0, 0, 0)
    answer = world.client.patch(
        f"/api/annotations/{annotation}",
        json={"result": choice("Positive")},
        headers=world.cast.owner.headers,
    )
    assert answer.status_code == 200, answer.text
    assert totals(world, POSITIVE_RESULTS) == (1, 1, 0)


def test_a_prediction_and_a_task_deletion_change_the_totals_at_once(
    three: tuple[World, list[int]],
) -> None:
    world, ids = three
    world.predict(ids[2])
    assert totals(world, UNLABELED) == (3, 0, 1)
    answer = world.client.delete(f"/api/tasks/{ids[2]}", headers=world.cast.owner.headers)
    assert answer.status_code == 204, answer.text
    assert totals(world, UNLABELED) == (2, 0, 0)
    assert totals(world, CATEGORY_A) == (2, 0, 0)
    world.task("text 9", category="a")
    assert totals(world, CATEGORY_A) == (3, 0, 0)


def _annotations_filter(operator: str, value: Any = 0) -> dict[str, Any]:
    return {
        "filters": {
            "conjunction": "and",
            "items": [
                {
                    "filter": "filter:tasks:total_annotations",
                    "operator": operator,
                    "type": "Number",
                    "value": value,
                }
            ],
        }
    }


def test_the_annotated_and_unannotated_totals_match_the_tasks_after_every_write(
    world: World,
) -> None:
    """These selections are counted from the project's counters; each answer is checked
    against the tasks' own columns after writes of every kind."""
    ids = [world.task(f"text {n}", category="a") for n in range(6)]

    def expected(annotated: bool) -> tuple[int, int, int]:
        rows = [t for t in world.task_rows().values() if (t.total_annotations > 0) == annotated]
        return (
            len(rows),
            sum(t.total_annotations for t in rows),
            sum(t.total_predictions for t in rows),
        )

    def check() -> None:
        assert totals(world, _annotations_filter("equal")) == expected(False)
        assert totals(world, _annotations_filter("equal", "0")) == expected(False)
        assert totals(world, _annotations_filter("greater")) == expected(True)
        assert totals(world, _annotations_filter("not_equal")) == expected(True)
        # Not a counters shape: counted on the tasks, and still the same rows.
        assert totals(world, _annotations_filter("greater", 1))[0] == sum(
            1 for t in world.task_rows().values() if t.total_annotations > 1
        )

    check()
    world.predict(ids[0])
    world.predict(ids[1])
    world.predict(ids[1], model_version="v2")
    first = world.annotate(ids[1])
    world.annotate(ids[1], actor=world.cast.annotator)
    world.annotate(ids[2], was_cancelled=True)
    world.annotate(ids[3])
    check()
    assert expected(True)[0] == 2 and expected(True)[2] == 2 and expected(False)[2] == 1
    answer = world.client.delete(f"/api/annotations/{first}", headers=world.cast.owner.headers)
    assert answer.status_code == 204, answer.text
    check()
    answer = world.client.delete(f"/api/tasks/{ids[3]}", headers=world.cast.owner.headers)
    assert answer.status_code == 204, answer.text
    check()
    deleted = world.action(
        "delete_tasks_annotations", {"selectedItems": {"all": False, "included": [ids[1]]}}
    )
    assert deleted.status_code == 200, deleted.text
    check()
    assert expected(True) == (0, 0, 0)

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

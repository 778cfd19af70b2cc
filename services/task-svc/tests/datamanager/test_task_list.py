"""`GET /api/tasks`: the data manager's list with filters, ordering, selection and pages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import World, headers_of  # type: ignore[import-not-found]

#: The keys of a row in Label Studio 1.23's answer without `fields=all` (exchanges file).
TASK_ONLY_KEYS = {
    "id",
    "drafts",
    "annotators",
    "assignees",
    "inner_id",
    "cancelled_annotations",
    "total_annotations",
    "total_predictions",
    "agreement",
    "annotations_results",
    "predictions_results",
    "file_upload",
    "storage_filename",
    "annotations_ids",
    "predictions_model_versions",
    "updated_by",
    "data",
    "meta",
    "created_at",
    "updated_at",
    "is_labeled",
    "overlap",
    "comments",
    "comment_count",
    "unresolved_comment_count",
    "last_comment_updated_at",
    "project",
    "comment_authors",
    # Label Studio Enterprise's review columns (the reviews domain keeps them on write).
    "reviewers",
    "reviewed",
    "reviews_accepted",
    "reviews_rejected",
}
FULL_EXTRA_KEYS = {
    "annotations",
    "predictions",
    "completed_at",
    "predictions_score",
    "avg_lead_time",
    "draft_exists",
}


def item(column: str, operator: str, type_: str, value: Any) -> dict[str, Any]:
    return {"filter": f"filter:tasks:{column}", "operator": operator, "type": type_, "value": value}


def where(*items: dict[str, Any], conjunction: str = "and") -> dict[str, Any]:
    return {"filters": {"conjunction": conjunction, "items": list(items)}}


@pytest.fixture()
def filled(world: World) -> tuple[World, list[int]]:
    """Five tasks: two annotated (one by each annotator), one predicted."""
    ids = [
        world.task("alpha apple", n=5, flag=True),
        world.task("beta banana", n=20, flag=False),
        world.task("gamma cherry", n="3"),
        world.task("delta apple pie", n=-1, flag=True),
        world.task("epsilon"),
    ]
    world.annotate(ids[0], world.cast.annotator, lead_time=4.0)
    world.annotate(ids[1], world.cast.annotator2, label="Negative")
    world.annotate(ids[1], world.cast.owner, was_cancelled=True, result=[])
    world.predict(ids[2], model_version="m1", score=0.5)
    return world, ids


def test_shapes_and_totals(filled: tuple[World, list[int]]) -> None:
    world, ids = filled
    answer = world.tasks()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"tasks", "total", "total_annotations", "total_predictions"}
    assert (body["total"], body["total_annotations"], body["total_predictions"]) == (5, 2, 1)
    assert [t["id"] for t in body["tasks"]] == ids
    first = body["tasks"][0]
    assert set(first) == TASK_ONLY_KEYS
    assert first["annotators"] == [world.cast.annotator.user_id]
    assert first["total_annotations"] == 1 and first["is_labeled"] is True
    assert first["updated_by"] == [{"user_id": world.cast.owner.user_id}]
    assert first["data"]["text"] == "alpha apple" and first["inner_id"] == 1
    assert body["tasks"][1]["cancelled_annotations"] == 1
    assert body["tasks"][2]["predictions_model_versions"] == "m1"

    full = world.tasks(fields="all").json()
    assert full["total"] == 5
    first = full["tasks"][0]
    assert set(first) == TASK_ONLY_KEYS | FULL_EXTRA_KEYS
    assert [a["completed_by"] for a in first["annotations"]] == [world.cast.annotator.user_id]
    assert first["annotations"][0]["result"][0]["value"] == {"choices": ["Positive"]}
    assert "Positive" in first["annotations_results"]
    assert first["avg_lead_time"] == 4.0 and first["completed_at"] is not None
    third = full["tasks"][2]
    assert [p["model_version"] for p in third["predictions"]] == ["m1"]
    assert third["predictions_score"] == 0.5
    assert full["tasks"][4]["annotations"] == [] and full["tasks"][4]["draft_exists"] is False


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (where(item("total_annotations", "greater", "Number", 0)), [0, 1]),
        (where(item("cancelled_annotations", "equal", "Number", 1)), [1]),
        (where(item("total_predictions", "greater_or_equal", "Number", 1)), [2]),
        (where(item("data.text", "contains", "String", "APPLE")), [0, 3]),
        (where(item("data.text", "not_contains", "String", "apple")), [1, 2, 4]),
        (where(item("data.text", "equal", "String", "epsilon")), [4]),
        (where(item("data.n", "greater", "Number", 4)), [0, 1]),
        (where(item("data.n", "in", "Number", {"min": 0, "max": 10})), [0, 2]),
        (where(item("data.flag", "equal", "Boolean", True)), [0, 3]),
        (where(item("data.n", "empty", "Number", True)), [4]),
        (where(item("completed_at", "empty", "Datetime", False)), [0, 1]),
        (where(item("completed_at", "empty", "Datetime", True)), [2, 3, 4]),
        (where(item("predictions_model_versions", "contains", "List", "m1")), [2]),
        (
            where(
                item("data.text", "contains", "String", "apple"),
                item("data.text", "contains", "String", "BETA"),
                conjunction="or",
            ),
            [0, 1, 3],
        ),
        (
            where(
                item("data.text", "contains", "String", "apple"),
                item("data.flag", "equal", "Boolean", True),
                item("data.n", "less", "Number", 0),
            ),
            [3],
        ),
        (
            where(item("created_at", "greater", "Datetime", "2000-01-01T00:00:00.000Z")),
            [0, 1, 2, 3, 4],
        ),
        (where(item("data.text", "contains", "String", None)), [0, 1, 2, 3, 4]),
    ],
)
def test_filters(
    filled: tuple[World, list[int]], query: dict[str, Any], expected: list[int]
) -> None:
    world, ids = filled
    answer = world.tasks(query=query)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [t["id"] for t in body["tasks"]] == [ids[i] for i in expected]
    assert body["total"] == len(expected)
    rows = world.task_rows()
    assert body["total_annotations"] == sum(rows[ids[i]].total_annotations for i in expected)
    assert body["total_predictions"] == sum(rows[ids[i]].total_predictions for i in expected)


def test_filter_by_annotator_and_id_list(filled: tuple[World, list[int]]) -> None:
    world, ids = filled
    by_annotator = where(item("annotators", "contains", "List", world.cast.annotator2.user_id))
    assert world.ids(query=by_annotator) == [ids[1]]
    listed = where(item("id", "in_list", "Number", [ids[4], ids[2]]))
    assert world.ids(query=listed) == [ids[2], ids[4]]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (["-tasks:id"], [4, 3, 2, 1, 0]),
        (["tasks:data.n"], [2, 3, 0, 1, 4]),
        (["-tasks:data.n"], [4, 1, 0, 3, 2]),
        (["tasks:data.text"], [0, 1, 3, 4, 2]),
        (["-tasks:total_annotations"], [1, 0, 4, 3, 2]),
        (["tasks:total_annotations", "-tasks:id"], [4, 3, 2, 1, 0]),
        (["-tasks:cancelled_annotations"], [1, 4, 3, 2, 0]),
        (["tasks:cancelled_annotations"], [0, 2, 3, 4, 1]),
        (["-tasks:completed_at"], [4, 3, 2, 1, 0]),
        (["tasks:completed_at"], [0, 1, 2, 3, 4]),
    ],
)
def test_ordering(
    filled: tuple[World, list[int]], ordering: list[str], expected: list[int]
) -> None:
    """Ties break on id (descending after a descending key); NULL sorts as the largest.

    JSON values order as jsonb does: `data.n` holds numbers, a string "3" and the missing
    value; strings sort before numbers, numbers sort numerically, the missing one last.
    """
    world, ids = filled
    got = world.ids(query={"ordering": ordering})
    assert got == [ids[i] for i in expected]


def test_selected_items(filled: tuple[World, list[int]]) -> None:
    world, ids = filled
    included = {"selectedItems": {"all": False, "included": [ids[3], ids[1]]}}
    assert world.ids(query=included) == [ids[1], ids[3]]
    excluded = {"selectedItems": {"all": True, "excluded": [ids[0]]}}
    body = world.tasks(query=excluded).json()
    assert [t["id"] for t in body["tasks"]] == ids[1:]
    assert (body["total"], body["total_annotations"]) == (4, 1)


def test_the_same_keys_in_a_json_body(filled: tuple[World, list[int]]) -> None:
    world, ids = filled
    answer = world.client.request(
        "GET",
        f"/api/tasks?project={world.project}",
        content=json.dumps({"ordering": ["-tasks:id"], "selectedItems": {"all": True}}),
        headers={**world.cast.owner.headers, "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    assert [t["id"] for t in answer.json()["tasks"]] == ids[::-1]


def test_pagination(filled: tuple[World, list[int]]) -> None:
    world, ids = filled
    pages = [world.tasks(page=n, page_size=2) for n in (1, 2, 3)]
    assert [[t["id"] for t in p.json()["tasks"]] for p in pages] == [ids[:2], ids[2:4], ids[4:]]
    assert all(p.json()["total"] == 5 for p in pages)
    past = world.tasks(page=4, page_size=2)
    assert past.status_code == 404 and past.json()["detail"] == "Invalid page."
    assert world.tasks(page=0).status_code == 404
    assert world.tasks(page="x").status_code == 404
    bad_size = world.tasks(page_size="many")
    assert bad_size.status_code == 400 and "page_size" in bad_size.json()["validation_errors"]
    # Default page size is 100.
    assert len(world.tasks().json()["tasks"]) == 5
    filtered = world.tasks(
        query=where(item("data.text", "contains", "String", "apple")), page=2, page_size=1
    )
    assert [t["id"] for t in filtered.json()["tasks"]] == [ids[3]]


def test_empty_project(world: World) -> None:
    answer = world.tasks()
    assert answer.status_code == 200
    assert answer.json() == {
        "total_annotations": 0,
        "total_predictions": 0,
        "total": 0,
        "tasks": [],
    }
    assert world.tasks(page=2).status_code == 404


def test_project_or_view_is_required(world: World) -> None:
    answer = world.client.get("/api/tasks", headers=world.cast.owner.headers)
    assert answer.status_code == 404
    assert answer.json()["detail"] == "Neither project nor view id specified"


def test_a_views_filters_and_ordering_apply(filled: tuple[World, list[int]]) -> None:
    world, ids = filled
    view = world.client.post(
        "/api/dm/views",
        json={
            "project": world.project,
            "data": {
                "title": "apples",
                **where(item("data.text", "contains", "String", "apple")),
                "ordering": ["-tasks:id"],
            },
        },
        headers=world.cast.owner.headers,
    ).json()
    answer = world.client.get(f"/api/tasks?view={view['id']}", headers=world.cast.annotator.headers)
    assert answer.status_code == 200, answer.text
    assert [t["id"] for t in answer.json()["tasks"]] == [ids[3], ids[0]]
    # With a view, `query` is ignored.
    ignored = world.tasks(view=view["id"], query={"ordering": ["tasks:id"]})
    assert [t["id"] for t in ignored.json()["tasks"]] == [ids[3], ids[0]]
    mismatch = world.client.get(
        f"/api/tasks?view={view['id']}&project={world.project + 100000}",
        headers=world.cast.owner.headers,
    )
    assert mismatch.status_code == 400
    outsider = world.client.get(
        f"/api/tasks?view={view['id']}", headers=world.cast.outsider.headers
    )
    assert outsider.status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (where(item("total_annotations", "bigger", "Number", 1)), "filters.items[0].operator"),
        (where(item("data.n", "greater", "Number", "lots")), "filters.items[0].value"),
        (where(item("nope", "equal", "Number", 1)), "filters.items[0].filter"),
        (where(item("data.a__b", "equal", "String", "x")), "filters.items[0].filter"),
        ({"ordering": ["tasks:comment_authors"]}, "ordering[0]"),
        ({"selectedItems": {"all": False, "included": ["x"]}}, "selectedItems"),
    ],
)
def test_bad_filters_name_the_field(world: World, query: dict[str, Any], field: str) -> None:
    answer = world.tasks(query=query)
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["validation_errors"], answer.json()


def test_bad_query_json(world: World) -> None:
    answer = world.client.get(
        f"/api/tasks?project={world.project}&query={{nope", headers=world.cast.owner.headers
    )
    assert answer.status_code == 400 and "query" in answer.json()["validation_errors"]
    bad_fields = world.tasks(fields="some")
    assert bad_fields.status_code == 400 and "fields" in bad_fields.json()["validation_errors"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 200), ("manager", 200), ("annotator", 200), ("outsider", 404), ("anonymous", 401)],
)
def test_permission_matrix(filled: tuple[World, list[int]], who: str, expected: int) -> None:
    world, ids = filled
    answer = world.client.get(
        f"/api/tasks?project={world.project}", headers=headers_of(world.cast, who)
    )
    assert answer.status_code == expected
    if expected == 200:
        assert [t["id"] for t in answer.json()["tasks"]] == ids
    else:
        assert "tasks" not in answer.json()

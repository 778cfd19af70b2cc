"""Saved data-manager views: CRUD, reset, order, validation and who may do what."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from task_svc.datamanager.models import View

from .conftest import World, headers_of  # type: ignore[import-not-found]

FILTERS = {
    "conjunction": "and",
    "items": [
        {
            "filter": "filter:tasks:total_annotations",
            "operator": "greater",
            "type": "Number",
            "value": 0,
        }
    ],
}


def _create(world: World, data: dict[str, Any], actor: Any = None) -> Any:
    return world.client.post(
        "/api/dm/views",
        json={"project": world.project, "data": data},
        headers=(actor or world.cast.owner).headers,
    )


def _stored(world: World, view_id: int) -> View | None:
    with world.stack.task_runtime.database.session() as session:
        view = session.get(View, view_id)
        if view is not None:
            session.expunge(view)
        return view


def test_create_stores_filters_apart_and_reads_them_back(world: World) -> None:
    data = {
        "title": "annotated",
        "filters": FILTERS,
        "ordering": ["-tasks:id"],
        "selectedItems": {"all": False, "included": [1, 2]},
        "hiddenColumns": {"explore": ["tasks:data.text"]},
    }
    answer = _create(world, data)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body == {
        "id": body["id"],
        "data": data,
        "order": 0,
        "user": world.cast.owner.user_id,
        "project": world.project,
    }
    stored = _stored(world, body["id"])
    assert stored is not None
    assert stored.data == {"title": "annotated", "hiddenColumns": {"explore": ["tasks:data.text"]}}
    assert stored.filters == FILTERS
    assert stored.ordering == ["-tasks:id"]
    assert stored.selected_items == {"all": False, "included": [1, 2]}

    fetched = world.client.get(f"/api/dm/views/{body['id']}", headers=world.cast.owner.headers)
    assert fetched.status_code == 200 and fetched.json() == body
    # A second view goes after the first.
    second = _create(world, {"title": "second"}).json()
    assert second["order"] == 1 and second["data"] == {"title": "second"}


def test_list_is_per_project_and_ordered(world: World, make_project: Any) -> None:
    first = _create(world, {"title": "a"}).json()["id"]
    second = _create(world, {"title": "b"}).json()["id"]
    other_project = make_project()
    other = world.client.post(
        "/api/dm/views",
        json={"project": other_project, "data": {"title": "elsewhere"}},
        headers=world.cast.owner.headers,
    )
    assert other.status_code == 201
    listed = world.client.get(
        f"/api/dm/views?project={world.project}", headers=world.cast.owner.headers
    )
    assert listed.status_code == 200
    assert [v["id"] for v in listed.json()] == [first, second]
    # Trailing slash form works too.
    assert (
        world.client.get(
            f"/api/dm/views/?project={world.project}", headers=world.cast.owner.headers
        ).json()
        == listed.json()
    )

    ordered = world.client.post(
        "/api/dm/views/order",
        json={"project": world.project, "ids": [second, first]},
        headers=world.cast.owner.headers,
    )
    assert ordered.status_code == 200, ordered.text
    listed = world.client.get(
        f"/api/dm/views?project={world.project}", headers=world.cast.owner.headers
    ).json()
    assert [(v["id"], v["order"]) for v in listed] == [(second, 0), (first, 1)]

    # An id from another project changes nothing.
    foreign = other.json()["id"]
    refused = world.client.post(
        "/api/dm/views/order",
        json={"project": world.project, "ids": [first, foreign]},
        headers=world.cast.owner.headers,
    )
    assert refused.status_code == 400 and "ids" in refused.json()["validation_errors"]
    stored = _stored(world, first)
    assert stored is not None and stored.order == 1


def test_list_needs_a_project(world: World) -> None:
    answer = world.client.get("/api/dm/views", headers=world.cast.owner.headers)
    assert answer.status_code == 400
    assert answer.json()["validation_errors"] == {"project": ["This field is required."]}


def test_patch_and_put_replace_data(world: World) -> None:
    view_id = _create(world, {"title": "t", "filters": FILTERS, "ordering": ["tasks:id"]}).json()[
        "id"
    ]
    patched = world.client.patch(
        f"/api/dm/views/{view_id}",
        json={"data": {"title": "renamed", "ordering": ["-tasks:data.text"]}},
        headers=world.cast.owner.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["data"] == {"title": "renamed", "ordering": ["-tasks:data.text"]}
    stored = _stored(world, view_id)
    assert stored is not None and stored.filters is None
    assert stored.ordering == ["-tasks:data.text"]
    put = world.client.put(
        f"/api/dm/views/{view_id}",
        json={"project": world.project, "data": {"title": "put", "filters": FILTERS}},
        headers=world.cast.owner.headers,
    )
    assert put.status_code == 200
    assert put.json()["data"] == {"title": "put", "filters": FILTERS}
    moved = world.client.patch(
        f"/api/dm/views/{view_id}",
        json={"project": world.project + 1000, "data": {}},
        headers=world.cast.owner.headers,
    )
    assert moved.status_code == 400


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {
                "filters": {
                    "conjunction": "and",
                    "items": [{**FILTERS["items"][0], "operator": "x"}],
                }
            },  # type: ignore[dict-item]
            "data.filters.items[0].operator",
        ),
        (
            {"filters": {"conjunction": "xor", "items": []}},
            "data.filters.conjunction",
        ),
        (
            {
                "filters": {
                    "conjunction": "and",
                    "items": [{**FILTERS["items"][0], "filter": "filter:tasks:nope"}],  # type: ignore[dict-item]
                }
            },
            "data.filters.items[0].filter",
        ),
        ({"ordering": ["tasks:nope"]}, "data.ordering[0]"),
        ({"ordering": "tasks:id;drop"}, "data.ordering[0]"),
        ({"selectedItems": {"all": "maybe"}}, "data.selectedItems"),
        ({"filters": [1]}, "data.filters"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(
    world: World, data: dict[str, Any], field: str
) -> None:
    answer = _create(world, {"title": "bad", **data})
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["validation_errors"], answer.json()
    with world.stack.task_runtime.database.session() as session:
        assert not list(session.scalars(select(View).where(View.project_id == world.project)))


def test_update_with_bad_filters_changes_nothing(world: World) -> None:
    view_id = _create(world, {"title": "ok", "filters": FILTERS}).json()["id"]
    answer = world.client.patch(
        f"/api/dm/views/{view_id}",
        json={"data": {"title": "bad", "filters": {"conjunction": "and", "items": [{}]}}},
        headers=world.cast.owner.headers,
    )
    assert answer.status_code == 400
    assert "data.filters.items[0].filter" in answer.json()["validation_errors"]
    stored = _stored(world, view_id)
    assert stored is not None and stored.data == {"title": "ok"} and stored.filters == FILTERS


def test_delete_and_reset(world: World) -> None:
    first = _create(world, {"title": "a"}).json()["id"]
    second = _create(world, {"title": "b"}).json()["id"]
    deleted = world.client.delete(f"/api/dm/views/{first}", headers=world.cast.owner.headers)
    assert deleted.status_code == 204 and deleted.content == b""
    assert _stored(world, first) is None and _stored(world, second) is not None
    reset = world.client.delete(
        f"/api/dm/views/reset?project={world.project}", headers=world.cast.owner.headers
    )
    assert reset.status_code == 204
    assert _stored(world, second) is None
    # The project may also come in the body.
    third = _create(world, {"title": "c"}).json()["id"]
    reset = world.client.request(
        "DELETE",
        "/api/dm/views/reset/",
        json={"project": world.project},
        headers=world.cast.owner.headers,
    )
    assert reset.status_code == 204 and _stored(world, third) is None


@pytest.mark.parametrize(
    ("who", "read", "create", "change_others", "reset"),
    [
        ("owner", 200, 201, 200, 204),
        ("manager", 200, 201, 200, 204),
        ("annotator", 200, 201, 403, 403),
        ("outsider", 404, 404, 404, 404),
        ("anonymous", 401, 401, 401, 401),
    ],
)
def test_permission_matrix(
    world: World, who: str, read: int, create: int, change_others: int, reset: int
) -> None:
    headers = headers_of(world.cast, who)
    owners = _create(world, {"title": "owner's"}).json()["id"]
    listed = world.client.get(f"/api/dm/views?project={world.project}", headers=headers)
    assert listed.status_code == read
    assert world.client.get(f"/api/dm/views/{owners}", headers=headers).status_code == read
    created = world.client.post(
        "/api/dm/views",
        json={"project": world.project, "data": {"title": "mine"}},
        headers=headers,
    )
    assert created.status_code == create
    if create == 201:
        # Everyone may change their own views.
        mine = created.json()["id"]
        assert (
            world.client.patch(
                f"/api/dm/views/{mine}", json={"data": {"title": "x"}}, headers=headers
            ).status_code
            == 200
        )
    patched = world.client.patch(
        f"/api/dm/views/{owners}", json={"data": {"title": "changed"}}, headers=headers
    )
    assert patched.status_code == change_others
    stored = _stored(world, owners)
    assert stored is not None
    assert stored.data["title"] == ("changed" if change_others == 200 else "owner's")
    deleted = world.client.delete(f"/api/dm/views/{owners}", headers=headers)
    assert deleted.status_code == (204 if change_others == 200 else change_others)
    assert (_stored(world, owners) is None) == (change_others == 200)
    answer = world.client.delete(f"/api/dm/views/reset?project={world.project}", headers=headers)
    assert answer.status_code == reset
    assert "Traceback" not in answer.text


def test_missing_view_is_404(world: World) -> None:
    assert (
        world.client.get("/api/dm/views/987654321", headers=world.cast.owner.headers).status_code
        == 404
    )

"""`/api/labels` and `/api/label_links`: the organization's label library, its permission
matrix, and the rows after each request."""

from __future__ import annotations

from typing import Any

import pytest
from labelops_common.auth.principal import Role
from project_svc.labels.models import Label, LabelLink
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .conftest import Actor, Cast, Factory

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Choices name="topic" toName="text"><Choice value="sports"/></Choices>
</View>"""


def _project(client, actor: Actor, title: str = "Labels") -> int:  # type: ignore[no-untyped-def]
    answer = client.post(
        "/api/projects", json={"title": title, "label_config": CONFIG}, headers=actor.headers
    )
    assert answer.status_code == 201, answer.text
    project_id: int = answer.json()["id"]
    return project_id


def _label(project: int, title: str = "Location", from_name: str = "ner") -> dict[str, Any]:
    return {
        "project": project,
        "from_name": from_name,
        "title": title,
        "value": {"labels": [title]},
    }


def _count(session: Session, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_labels_are_created_in_bulk_and_reused_by_title(
    client, cast: Cast, session: Session
) -> None:
    project = _project(client, cast.owner)
    other = _project(client, cast.owner, "Other")
    answer = client.post(
        "/api/labels/",
        json=[_label(project), _label(project, "Company")],
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert [item["title"] for item in created] == ["Location", "Company"]
    assert created[0]["project"] == project and created[0]["from_name"] == "ner"
    assert created[0]["organization"] == cast.owner.principal.organization_id
    again = client.post(
        "/api/labels/", json=[_label(other, from_name="topic")], headers=cast.owner.headers
    )
    assert again.json()[0]["id"] == created[0]["id"]  # same title: the same label
    assert sorted(again.json()[0]["projects"]) == sorted([project, other])
    assert _count(session, Label) == 2
    assert _count(session, LabelLink) == 3

    listed = client.get("/api/labels/", headers=cast.annotator.headers)
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 2
    location = next(item for item in body["results"] if item["title"] == "Location")
    assert location["value"] == {"labels": ["Location"]} and len(location["links"]) == 2


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([], "non_field_errors"),
        ([{"from_name": "ner", "title": "X", "value": {}}], "project"),
        ([{"project": -1, "from_name": "ner", "title": "X", "value": {}}], "project"),
        ([{"project": "P", "from_name": "nope", "title": "X", "value": {}}], "0.from_name"),
    ],
)
def test_bad_labels_are_refused_naming_the_field(
    client, cast: Cast, session: Session, items: list[dict[str, Any]], field: str
) -> None:
    project = _project(client, cast.owner)
    for item in items:
        if item.get("project") == "P":
            item["project"] = project
    answer = client.post("/api/labels/", json=items, headers=cast.owner.headers)
    assert answer.status_code == 400, answer.text
    assert any(field in key for key in answer.json()["validation_errors"]), answer.json()
    assert _count(session, Label) == 0


def test_labels_for_two_projects_at_once_are_refused(client, cast: Cast, session: Session) -> None:
    one, two = _project(client, cast.owner), _project(client, cast.owner, "Two")
    answer = client.post(
        "/api/labels/", json=[_label(one), _label(two, "Other")], headers=cast.owner.headers
    )
    assert answer.status_code == 400
    assert "project" in answer.json()["validation_errors"]
    assert _count(session, Label) == 0


def test_a_label_is_read_changed_and_deleted_with_its_links(
    client, cast: Cast, session: Session
) -> None:
    project = _project(client, cast.owner)
    label = client.post("/api/labels/", json=[_label(project)], headers=cast.owner.headers).json()[
        0
    ]
    got = client.get(f"/api/labels/{label['id']}/", headers=cast.owner.headers)
    assert got.status_code == 200 and got.json()["projects"] == [project]
    changed = client.patch(
        f"/api/labels/{label['id']}/",
        json={"approved": True, "description": "places"},
        headers=cast.owner.headers,
    )
    assert changed.status_code == 200, changed.text
    session.expire_all()
    row = session.get(Label, label["id"])
    assert row is not None and row.approved and row.description == "places"
    deleted = client.delete(f"/api/labels/{label['id']}/", headers=cast.owner.headers)
    assert deleted.status_code == 204
    assert _count(session, Label) == 0 and _count(session, LabelLink) == 0


def test_label_links_are_listed_filtered_changed_and_deleted(
    client, cast: Cast, session: Session
) -> None:
    project = _project(client, cast.owner)
    other = _project(client, cast.owner, "Other")
    label = client.post("/api/labels/", json=[_label(project)], headers=cast.owner.headers).json()[
        0
    ]
    link = client.post(
        "/api/label_links/",
        json={"project": other, "label": label["id"], "from_name": "topic"},
        headers=cast.owner.headers,
    )
    assert link.status_code == 201, link.text
    link_id = link.json()["id"]
    assert set(link.json()) == {"id", "annotations_count", "from_name", "project", "label"}
    duplicate = client.post(
        "/api/label_links/",
        json={"project": other, "label": label["id"], "from_name": "topic"},
        headers=cast.owner.headers,
    )
    assert duplicate.status_code == 400
    listed = client.get(f"/api/label_links/?project={other}", headers=cast.owner.headers).json()
    assert [item["id"] for item in listed["results"]] == [link_id]
    assert client.get("/api/label_links/", headers=cast.owner.headers).json()["count"] == 2
    bad_date = client.get(
        "/api/label_links/?label__created_at__gte=soon", headers=cast.owner.headers
    )
    assert bad_date.status_code == 400
    assert "label__created_at__gte" in bad_date.json()["validation_errors"]

    moved = client.patch(
        f"/api/label_links/{link_id}/", json={"from_name": "ner"}, headers=cast.owner.headers
    )
    assert moved.status_code == 200 and moved.json()["from_name"] == "ner"
    wrong = client.patch(
        f"/api/label_links/{link_id}/", json={"from_name": "missing"}, headers=cast.owner.headers
    )
    assert wrong.status_code == 400 and "from_name" in wrong.json()["validation_errors"]
    session.expire_all()
    row = session.get(LabelLink, link_id)
    assert row is not None and row.from_name == "ner"
    assert (
        client.delete(f"/api/label_links/{link_id}/", headers=cast.owner.headers).status_code == 204
    )
    assert session.get(LabelLink, link_id) is None or _count(session, LabelLink) == 1


@pytest.fixture()
def library(client, cast: Cast) -> dict[str, int]:  # type: ignore[no-untyped-def]
    project = _project(client, cast.owner)
    label = client.post("/api/labels/", json=[_label(project)], headers=cast.owner.headers).json()[
        0
    ]
    links = client.get("/api/label_links/", headers=cast.owner.headers).json()["results"]
    return {"project": project, "label": label["id"], "link": links[0]["id"]}


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [("owner", 200, 201), ("annotator", 200, 403), ("outsider", 404, 400), ("anonymous", 401, 401)],
)
def test_the_permission_matrix(
    client, cast: Cast, library: dict[str, int], session: Session, who: str, read: int, write: int
) -> None:
    headers = {} if who == "anonymous" else getattr(cast, who).headers
    assert client.get(f"/api/labels/{library['label']}/", headers=headers).status_code == read
    assert client.get(f"/api/label_links/{library['link']}/", headers=headers).status_code == read
    created = client.post("/api/labels/", json=[_label(library["project"], "New")], headers=headers)
    assert created.status_code == write
    if write != 201:
        assert _count(session, Label) == 1
        assert client.delete(f"/api/labels/{library['label']}/", headers=headers).status_code in (
            401,
            403,
            404,
        )
        assert _count(session, Label) == 1


def test_a_manager_changes_the_library(
    client, cast: Cast, factory: Factory, library: dict[str, int]
) -> None:
    manager = factory.actor(cast.owner.principal.organization_id, Role.MANAGER)
    answer = client.patch(
        f"/api/labels/{library['label']}/", json={"title": "Place"}, headers=manager.headers
    )
    assert answer.status_code == 200 and answer.json()["title"] == "Place"

"""The permission matrix of every export endpoint, with export-svc's tables checked after each call.

Formats are listed to any member (Label Studio's `projects.view`); everything that hands
out annotations needs `projects.change` (owner, administrator, manager). Another
organization's project is not found; no credentials is 401.
"""

from __future__ import annotations

from typing import Any

import pytest
from export_svc.exports import jobs

from .conftest import Cast, Db, Seeded, Seeder, Stack

WHO = ("owner", "manager", "annotator", "outsider", "anonymous")


def headers(cast: Cast, who: str) -> dict[str, str]:
    return {} if who == "anonymous" else getattr(cast, who).headers


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/export/formats",
            {"owner": 200, "manager": 200, "annotator": 200, "outsider": 404, "anonymous": 401},
        ),
        (
            "/export?exportType=JSON",
            {"owner": 200, "manager": 200, "annotator": 403, "outsider": 404, "anonymous": 401},
        ),
        (
            "/exports",
            {"owner": 200, "manager": 200, "annotator": 403, "outsider": 404, "anonymous": 401},
        ),
    ],
)
def test_reading(
    stack: Stack, cast: Cast, ner_project: Seeded, path: str, expected: dict[str, int]
) -> None:
    for who in WHO:
        answer = stack.export.get(
            f"/api/projects/{ner_project.project_id}{path}", headers=headers(cast, who)
        )
        assert answer.status_code == expected[who], (who, answer.text)
        if answer.status_code == 403:
            assert "permission" in answer.json()["detail"]


def test_creating_a_snapshot(
    stack: Stack, cast: Cast, ner_project: Seeded, db: Db, sent: list[tuple[str, int]]
) -> None:
    project = ner_project.project_id
    expected = {"annotator": 403, "outsider": 404, "anonymous": 401, "owner": 201, "manager": 201}
    for who in ("annotator", "outsider", "anonymous"):
        answer = stack.export.post(
            f"/api/projects/{project}/exports", json={}, headers=headers(cast, who)
        )
        assert answer.status_code == expected[who], (who, answer.text)
        assert db.exports(project) == [] and sent == []
    for who in ("owner", "manager"):
        answer = stack.export.post(
            f"/api/projects/{project}/exports", json={}, headers=headers(cast, who)
        )
        assert answer.status_code == 201
        assert db.exports(project)[-1].created_by_id == getattr(cast, who).user_id
    assert len(db.exports(project)) == 2 and len(sent) == 2


def test_one_snapshot(
    stack: Stack,
    cast: Cast,
    ner_project: Seeded,
    seeder: Seeder,
    db: Db,
    sent: list[tuple[str, int]],
) -> None:
    project = ner_project.project_id
    export_id = stack.export.post(
        f"/api/projects/{project}/exports", json={}, headers=cast.owner.headers
    ).json()["id"]
    jobs.write_snapshot.run(export_id)
    base = f"/api/projects/{project}/exports/{export_id}"
    calls: list[tuple[str, str, Any]] = [
        ("GET", base, None),
        ("GET", f"{base}/download?exportType=JSON", None),
        ("POST", f"{base}/convert", {"export_type": "CSV"}),
        ("DELETE", base, None),
    ]
    for who, status in (("annotator", 403), ("outsider", 404), ("anonymous", 401)):
        for method, path, body in calls:
            answer = stack.export.request(method, path, json=body, headers=headers(cast, who))
            assert answer.status_code == status, (who, method, path, answer.text)
        (row,) = db.exports(project)
        assert row.id == export_id and db.conversions(export_id) == []
        assert db.artifact(row.artifact_key).exists()

    # A snapshot is only reachable through its own project.
    other = seeder.project()
    assert (
        stack.export.get(
            f"/api/projects/{other}/exports/{export_id}", headers=cast.owner.headers
        ).status_code
        == 404
    )
    assert (
        stack.export.delete(
            f"/api/projects/{other}/exports/{export_id}", headers=cast.owner.headers
        ).status_code
        == 404
    )
    assert len(db.exports(project)) == 1

    for method, path, body in calls:
        answer = stack.export.request(method, path, json=body, headers=cast.manager.headers)
        assert answer.status_code in (200, 204), (method, path, answer.text)
    assert db.exports(project) == []

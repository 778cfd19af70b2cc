"""task-svc's audit entries: written with the change (refused ones leave none), one entry
for a bulk import or deletion whatever its size, and served over gRPC into project-svc's
merged `/api/audit-logs/`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from labelops_common.settings import CommonSettings
from sqlalchemy import select
from task_svc.audit.models import AuditEntry

from ..conftest import Cast, MakeProject, Stack

CHOICE = [
    {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


def entries(stack: Stack, organization_id: int) -> list[AuditEntry]:
    with stack.task_runtime.database.session() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.organization_id == organization_id)
                .order_by(AuditEntry.id)
            )
        )


@pytest.fixture()
def task_svc_only(stack: Stack) -> Iterator[None]:
    """project-svc's merge asks task-svc (running here) and no other service."""
    from project_svc.audit.rpc import peer_listers

    state = stack.project_runtime.http_app.state
    previous = state.audit_peers
    common = CommonSettings(grpc_peers={"task-svc": stack.task_grpc_address})
    state.audit_peers = {"task-svc": peer_listers(common)["task-svc"]}
    try:
        yield
    finally:
        state.audit_peers = previous


def test_a_large_import_and_its_bulk_deletion_are_one_entry_each(
    stack: Stack, cast: Cast, make_project: MakeProject
) -> None:
    client = stack.task
    org = cast.owner.organization_id
    pid = make_project()
    items: list[dict[str, Any]] = [{"text": f"task {n}"} for n in range(2_000)]
    imported = client.post(f"/api/projects/{pid}/import", json=items, headers=cast.owner.headers)
    assert imported.status_code == 201, imported.text
    deleted = client.post(
        f"/api/dm/actions?project={pid}&id=delete_tasks",
        json={"selectedItems": {"all": True, "excluded": []}},
        headers=cast.owner.headers,
    )
    assert deleted.status_code == 200, deleted.text
    rows = [row for row in entries(stack, org) if row.project_id == pid]
    assert [row.action for row in rows] == ["tasks.imported", "tasks.deleted"]
    assert rows[0].changes["task_count"] == 2_000
    assert rows[0].actor_id == cast.owner.user_id
    assert rows[1].changes["count"] == 2_000
    assert rows[1].changes["selection"] == {"all": True, "excluded": {"count": 0, "ids": []}}


def test_annotations_are_recorded_and_refused_changes_are_not(
    stack: Stack, cast: Cast, make_project: MakeProject
) -> None:
    client = stack.task
    org = cast.owner.organization_id
    pid = make_project()
    task = client.post(
        "/api/tasks", json={"project": pid, "data": {"text": "hi"}}, headers=cast.owner.headers
    ).json()
    before = len(entries(stack, org))
    bad = client.post(
        f"/api/tasks/{task['id']}/annotations",
        json={"result": "not a list"},
        headers=cast.annotator.headers,
    )
    assert bad.status_code == 400
    created = client.post(
        f"/api/tasks/{task['id']}/annotations",
        json={"result": CHOICE},
        headers=cast.annotator.headers,
    )
    assert created.status_code == 201, created.text
    annotation_id = created.json()["id"]
    others = client.patch(
        f"/api/annotations/{annotation_id}", json={"result": []}, headers=cast.annotator2.headers
    )
    assert others.status_code in {403, 404}
    changed = [{**CHOICE[0], "value": {"choices": ["Negative"]}}]
    updated = client.patch(
        f"/api/annotations/{annotation_id}",
        json={"result": changed, "lead_time": 4.5},
        headers=cast.annotator.headers,
    )
    assert updated.status_code == 200, updated.text
    assert (
        client.delete(
            f"/api/annotations/{annotation_id}", headers=cast.annotator.headers
        ).status_code
        == 204
    )
    rows = entries(stack, org)[before:]
    assert [(row.action, row.object_id, row.actor_id) for row in rows] == [
        ("annotation.created", str(annotation_id), cast.annotator.user_id),
        ("annotation.updated", str(annotation_id), cast.annotator.user_id),
        ("annotation.deleted", str(annotation_id), cast.annotator.user_id),
    ]
    assert rows[1].changes["result"] == {"changed": True}
    assert rows[1].changes["lead_time"]["new"] == 4.5


def test_task_entries_reach_the_merged_log_over_grpc(
    stack: Stack, cast: Cast, make_project: MakeProject, task_svc_only: None
) -> None:
    pid = make_project(members=False)
    task = stack.task.post(
        "/api/tasks", json={"project": pid, "data": {"text": "x"}}, headers=cast.owner.headers
    ).json()
    patched = stack.task.patch(
        f"/api/tasks/{task['id']}", json={"meta": {"k": 1}}, headers=cast.owner.headers
    )
    assert patched.status_code == 200
    assert (
        stack.task.delete(f"/api/tasks/{task['id']}", headers=cast.owner.headers).status_code == 204
    )
    answer = stack.project.get(
        "/api/audit-logs/", params={"project": pid}, headers=cast.owner.headers
    )
    assert answer.status_code == 200, answer.text
    log = list(reversed(answer.json()["results"]))
    assert [(e["service"], e["action"]) for e in log] == [
        ("project-svc", "project.created"),
        ("task-svc", "task.created"),
        ("task-svc", "task.updated"),
        ("task-svc", "task.deleted"),
    ]
    assert log[2]["changes"] == {"meta": {"changed": True}}
    # The outsider's organization has none of it; the annotator may not read it.
    assert (
        stack.project.get("/api/audit-logs/", headers=cast.outsider.headers).json()["results"] == []
    )
    assert stack.project.get("/api/audit-logs/", headers=cast.annotator.headers).status_code == 403


def test_reviews_are_recorded_with_their_verdict_and_refused_ones_are_not(
    stack: Stack, cast: Cast, make_project: MakeProject
) -> None:
    client = stack.task
    org = cast.owner.organization_id
    pid = make_project()
    task = client.post(
        "/api/tasks", json={"project": pid, "data": {"text": "hi"}}, headers=cast.owner.headers
    ).json()
    annotation_id = client.post(
        f"/api/tasks/{task['id']}/annotations",
        json={"result": CHOICE},
        headers=cast.annotator.headers,
    ).json()["id"]
    before = len(entries(stack, org))
    # A rejection without a reason and an annotator's review are refused: no entry.
    assert (
        client.post(
            "/api/annotation-reviews",
            json={"annotation": annotation_id, "accepted": False},
            headers=cast.manager.headers,
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/api/annotation-reviews",
            json={"annotation": annotation_id, "accepted": True},
            headers=cast.annotator2.headers,
        ).status_code
        == 403
    )
    rejected = client.post(
        "/api/annotation-reviews",
        json={"annotation": annotation_id, "accepted": False, "comment": "wrong label"},
        headers=cast.manager.headers,
    )
    assert rejected.status_code == 201, rejected.text
    review_id = rejected.json()["id"]
    fixed = [{**CHOICE[0], "value": {"choices": ["Negative"]}}]
    accepted = client.patch(
        f"/api/annotation-reviews/{review_id}",
        json={"accepted": True, "result": fixed},
        headers=cast.manager.headers,
    )
    assert accepted.status_code == 200, accepted.text
    deleted = client.delete(f"/api/annotation-reviews/{review_id}", headers=cast.manager.headers)
    assert deleted.status_code == 204
    rows = entries(stack, org)[before:]
    assert [(row.action, row.object_id, row.actor_id) for row in rows] == [
        ("review.created", str(review_id), cast.manager.user_id),
        ("review.updated", str(review_id), cast.manager.user_id),
        ("review.deleted", str(review_id), cast.manager.user_id),
    ]
    assert rows[0].changes["accepted"] == {"old": None, "new": False}
    assert rows[1].changes["accepted"] == {"old": None, "new": True}
    assert rows[1].changes["result"] == {"changed": True}
    assert all(row.project_id == pid for row in rows)

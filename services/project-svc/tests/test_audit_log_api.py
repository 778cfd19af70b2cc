"""`/api/audit-logs/`: who may read it, what project-svc's changes leave in it (and what
refused ones do not), secrets masked, bad filters refused naming the field.

task-svc's entries come over its real gRPC server (`task_svc_address`); the five-service
merge is tested end to end in tests/test_audit_log.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from labelops_common.audit import AuditFilter, Before
from labelops_common.auth.principal import Role
from labelops_common.service import ServiceRuntime
from labelops_common.settings import CommonSettings
from project_svc.audit import service as audit
from project_svc.audit.models import AuditEntry
from project_svc.audit.rpc import peer_listers
from sqlalchemy import select
from sqlalchemy.orm import Session

from .conftest import Actor, Cast, Factory

CONFIG = '<View><Text name="t" value="$text"/><Choices name="c" toName="t"><Choice value="a"/></Choices></View>'


@pytest.fixture(autouse=True)
def task_svc_peer(runtime: ServiceRuntime, task_svc_address: str) -> Iterator[None]:
    """The log merges task-svc's entries, asked over gRPC; the other services are not
    running in these tests."""
    common = CommonSettings(grpc_peers={"task-svc": task_svc_address})
    previous = runtime.http_app.state.audit_peers
    runtime.http_app.state.audit_peers = {"task-svc": peer_listers(common)["task-svc"]}
    try:
        yield
    finally:
        runtime.http_app.state.audit_peers = previous


def entries_in_db(session: Session, organization_id: int) -> list[AuditEntry]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.organization_id == organization_id)
            .order_by(AuditEntry.id)
        )
    )


def read_log(client: Any, actor: Actor, **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/audit-logs/", params=params, headers=actor.headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["results"])


def test_only_owners_and_administrators_read_their_organization_log(
    client, factory: Factory, cast: Cast
) -> None:
    org = cast.owner.principal.organization_id
    administrator = factory.actor(org, Role.ADMINISTRATOR)
    manager = factory.actor(org, Role.MANAGER)
    reviewer = factory.actor(org, Role.REVIEWER)
    created = client.post("/api/projects", json={"title": "Org A's"}, headers=cast.owner.headers)
    assert created.status_code == 201
    for reader in (cast.owner, administrator):
        assert [e["action"] for e in read_log(client, reader)] == ["project.created"]
    for refused in (manager, reviewer, cast.annotator):
        assert client.get("/api/audit-logs/", headers=refused.headers).status_code == 403
        assert client.get("/api/audit-logs/export", headers=refused.headers).status_code == 403
    assert client.get("/api/audit-logs/").status_code == 401
    # Another organization's owner sees none of it.
    assert read_log(client, cast.outsider) == []


def test_a_project_update_records_old_and_new_and_a_refused_one_records_nothing(
    client, session: Session, cast: Cast
) -> None:
    owner = cast.owner
    org = owner.principal.organization_id
    pid = client.post("/api/projects", json={"title": "Before"}, headers=owner.headers).json()["id"]
    assert len(entries_in_db(session, org)) == 1
    refused = client.patch(
        f"/api/projects/{pid}", json={"label_config": "<View><Broken"}, headers=owner.headers
    )
    assert refused.status_code == 400
    refused_by_role = client.patch(
        f"/api/projects/{pid}", json={"title": "Annotator's"}, headers=cast.annotator.headers
    )
    assert refused_by_role.status_code in {403, 404}
    assert client.get(f"/api/projects/{pid}", headers=owner.headers).status_code == 200
    assert len(entries_in_db(session, org)) == 1

    changed = client.patch(
        f"/api/projects/{pid}",
        json={"title": "After", "label_config": CONFIG, "task_data_password": "hunter2-secret"},
        headers=owner.headers,
    )
    assert changed.status_code == 200, changed.text
    same_again = client.patch(
        f"/api/projects/{pid}", json={"title": "After"}, headers=owner.headers
    )
    assert same_again.status_code == 200
    rows = entries_in_db(session, org)
    assert [row.action for row in rows] == [
        "project.created",
        "project.updated",
        "label_config.updated",
    ]
    assert rows[1].changes["title"] == {"old": "Before", "new": "After"}
    assert rows[1].changes["task_data_password"] == {"old": "***", "new": "***"}
    assert rows[1].actor_id == owner.principal.user_id
    assert rows[1].actor_email == owner.principal.email
    assert rows[1].project_id == pid
    assert rows[2].changes == {"label_config": {"changed": True}}
    answer = client.get("/api/audit-logs/", headers=owner.headers)
    assert "hunter2-secret" not in answer.text


def test_webhook_header_values_and_secrets_never_reach_the_log(client, cast: Cast) -> None:
    """A public address (the app runs with the default outbound policy); creating a
    webhook sends nothing."""
    owner = cast.owner
    pid = client.post("/api/projects", json={"title": "Hooks"}, headers=owner.headers).json()["id"]
    hook = client.post(
        "/api/webhooks",
        json={
            "project": pid,
            "url": "https://1.1.1.1/hooks",
            "headers": {"Authorization": "Bearer header-secret-value"},
            "secret": "signing-secret-0123456789",
        },
        headers=owner.headers,
    )
    assert hook.status_code == 201, hook.text
    updated = client.patch(
        f"/api/webhooks/{hook.json()['id']}",
        json={"headers": {"Authorization": "Bearer rotated-header-secret"}, "is_active": False},
        headers=owner.headers,
    )
    assert updated.status_code == 200, updated.text
    log = client.get("/api/audit-logs/", headers=owner.headers)
    for secret in ("header-secret-value", "rotated-header-secret", "signing-secret-0123456789"):
        assert secret not in log.text
    entries = log.json()["results"]
    assert [e["action"] for e in entries] == [
        "webhook.updated",
        "webhook.created",
        "project.created",
    ]
    assert entries[0]["changes"]["is_active"] == {"old": True, "new": False}
    assert entries[0]["changes"]["headers_encrypted"] == {"old": "***", "new": "***"}


def test_members_roles_and_tokens_are_recorded(
    client, session: Session, factory: Factory, cast: Cast
) -> None:
    owner = cast.owner
    org = owner.principal.organization_id
    pid = client.post("/api/projects", json={"title": "Team"}, headers=owner.headers).json()["id"]
    annotator_id = cast.annotator.principal.user_id
    assert (
        client.post(
            f"/api/projects/{pid}/members/", json={"user": annotator_id}, headers=owner.headers
        ).status_code
        == 201
    )
    assert (
        client.patch(
            f"/api/organizations/{org}/memberships/{annotator_id}",
            json={"role": "reviewer"},
            headers=owner.headers,
        ).status_code
        == 200
    )
    reset = client.post("/api/current-user/reset-token", headers=owner.headers)
    assert reset.status_code == 201
    rows = entries_in_db(session, org)
    assert [(row.action, row.object_id) for row in rows] == [
        ("project.created", str(pid)),
        ("project_member.added", str(annotator_id)),
        ("organization_member.role_changed", str(annotator_id)),
        ("token.reset", str(owner.principal.user_id)),
    ]
    assert rows[2].changes == {"role": {"old": "annotator", "new": "reviewer"}}
    assert reset.json()["token"] not in repr([row.changes for row in rows])


def test_bad_filters_are_refused_naming_the_field(client, cast: Cast) -> None:
    for params, field in (
        ({"from": "not-a-date"}, "from"),
        ({"to": "2026-13-45"}, "to"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "from"),
        ({"page_size": "0"}, "page_size"),
        ({"actor": "me"}, "actor"),
        ({"cursor": "garbage"}, "cursor"),
    ):
        answer = client.get("/api/audit-logs/", params=params, headers=cast.owner.headers)
        assert answer.status_code == 400, params
        assert field in answer.json()["validation_errors"], params
    answer = client.get(
        "/api/audit-logs/export", params={"format": "xlsx"}, headers=cast.owner.headers
    )
    assert answer.status_code == 400
    assert "format" in answer.json()["validation_errors"]


def test_merge_orders_by_time_then_service_then_id_across_pages(session: Session) -> None:
    """The merge and its cursor over listers of fixed entries: every entry exactly once,
    newest first, whatever the page size, also when entries of several services share an
    instant."""
    at = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)

    def row(entry_id: int, seconds: int) -> dict[str, Any]:
        return {
            "id": entry_id,
            "organization_id": 1,
            "actor_id": 1,
            "actor_email": "",
            "action": "x",
            "object_type": "t",
            "object_id": str(entry_id),
            "project_id": None,
            "changes": {},
            "request_id": None,
            "client_ip": None,
            "created_at": at + timedelta(seconds=seconds),
        }

    stored = {
        "task-svc": [row(1, 0), row(2, 5), row(3, 5), row(4, 9)],
        "export-svc": [row(1, 5), row(2, 7)],
        "ml-gateway": [row(1, 5)],
    }

    def lister(name: str) -> audit.PeerLister:
        def listed(where: AuditFilter, before: Before | None, limit: int) -> list[dict[str, Any]]:
            rows = sorted(stored[name], key=lambda r: (r["created_at"], r["id"]), reverse=True)
            if before is not None:
                rows = [
                    r
                    for r in rows
                    if r["created_at"] < before.created_at
                    or (
                        r["created_at"] == before.created_at
                        and (r["id"] < before.id if before.id is not None else before.same_time)
                    )
                ]
            return rows[:limit]

        return listed

    peers = {name: lister(name) for name in stored}
    where = AuditFilter(organization_id=-1)  # nothing of project-svc's own
    expected = [
        ("task-svc", 4),
        ("export-svc", 2),
        ("task-svc", 3),
        ("task-svc", 2),
        ("ml-gateway", 1),
        ("export-svc", 1),
        ("task-svc", 1),
    ]
    for size in (1, 2, 3, 10):
        seen: list[tuple[str, int]] = []
        cursor = None
        while True:
            page = audit.merged_entries(
                session, where=where, peers=peers, cursor=cursor, limit=size
            )
            seen += [(r["service"], r["id"]) for r in page]
            if len(page) < size:
                break
            cursor = audit.Cursor.decode(audit.cursor_after(page[-1]).encode())
        assert seen == expected, size


def test_joining_through_an_invite_is_recorded_for_the_new_member(
    client, session: Session, cast: Cast
) -> None:
    owner = cast.owner
    org = owner.principal.organization_id
    invite = client.get("/api/invite", headers=owner.headers)
    assert invite.status_code == 200, invite.text
    joined = client.post(
        "/user/signup",
        json={
            "email": "joiner@example.com",
            "password": "joiner-password-123",
            "token": invite.json()["token"],
        },
    )
    assert joined.status_code == 201, joined.text
    rows = entries_in_db(session, org)
    assert [(row.action, row.actor_email) for row in rows] == [
        ("user.joined", "joiner@example.com")
    ]
    assert rows[0].changes["invite"] == {"old": None, "new": True}
    assert "joiner-password-123" not in repr(rows[0].changes)

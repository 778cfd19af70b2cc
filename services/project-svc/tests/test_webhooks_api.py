"""`/api/webhooks`: the permission matrix, Label Studio's shapes, bad input, DB state after.

The app runs with the default outbound policy (private networks refused, as the chart's
default), so URLs here are public addresses written as IPs (no DNS needed), and a
loopback URL is refused.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from project_svc.webhooks import service as webhooks
from project_svc.webhooks.models import Webhook, WebhookDelivery
from sqlalchemy import func, select
from sqlalchemy.orm import Session

pytestmark = pytest.mark.usefixtures("sent")

PUBLIC_URL = "http://8.8.8.8/hook"
OTHER_PUBLIC_URL = "https://1.1.1.1/other"


def webhook_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Webhook)) or 0


def project(client: TestClient, headers: dict[str, str]) -> int:
    response = client.post("/api/projects", json={"title": "Hooked"}, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def create(client: TestClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = client.post("/api/webhooks", json={"url": PUBLIC_URL, **fields}, headers=auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


def assert_error(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = dict(response.json())
    assert body["status_code"] == status and body["detail"]
    if field is not None:
        assert body["validation_errors"][field], body
    return body


class TestCreate:
    def test_project_webhook_with_label_studio_defaults(
        self, client, cast, session, secret_key
    ) -> None:
        project_id = project(client, cast.owner.headers)
        body = create(client, cast.owner.headers, project=project_id)
        assert body["project"] == project_id
        assert body["organization"] == cast.owner.principal.organization_id
        assert body["send_payload"] is True and body["send_for_all_actions"] is True
        assert body["is_active"] is True and body["actions"] == [] and body["headers"] == {}
        assert body["created_at"].endswith("Z") and body["updated_at"]
        # The generated signing secret is served once, on create, and stored encrypted.
        assert len(body["secret"]) >= 32
        row = session.get(Webhook, body["id"])
        assert row is not None and row.url == PUBLIC_URL
        assert body["secret"] not in row.secret_encrypted
        assert webhooks.webhook_secret(row, secret_key=secret_key) == body["secret"]
        again = client.get(f"/api/webhooks/{body['id']}", headers=cast.owner.headers).json()
        assert "secret" not in again

    def test_headers_are_stored_encrypted_and_served_masked(
        self, client, cast, session, secret_key
    ) -> None:
        project_id = project(client, cast.owner.headers)
        body = create(
            client,
            cast.owner.headers,
            project=project_id,
            headers={"Authorization": "Bearer s3cr3t-value"},
            secret="a-secret-of-the-callers-own-choosing",
        )
        assert body["headers"] == {"Authorization": "********"}
        assert body["secret"] is None
        row = session.get(Webhook, body["id"])
        assert row is not None and "s3cr3t" not in row.headers_encrypted
        assert webhooks.webhook_headers(row, secret_key=secret_key) == {
            "Authorization": "Bearer s3cr3t-value"
        }
        # Sending the masked value back keeps the stored one; a new header is added.
        response = client.patch(
            f"/api/webhooks/{body['id']}",
            json={"headers": {"Authorization": "********", "X-Team": "ml"}},
            headers=cast.owner.headers,
        )
        assert response.status_code == 200, response.text
        session.expire_all()
        assert webhooks.webhook_headers(row, secret_key=secret_key) == {
            "Authorization": "Bearer s3cr3t-value",
            "X-Team": "ml",
        }

    def test_organization_webhook_needs_an_administrator(self, client, cast, factory) -> None:
        from labelops_common.auth.principal import Role

        body = create(client, cast.owner.headers)
        assert body["project"] is None
        manager = factory.actor(cast.owner.principal.organization_id, Role.MANAGER)
        response = client.post("/api/webhooks", json={"url": PUBLIC_URL}, headers=manager.headers)
        assert_error(response, 403)

    def test_loopback_url_is_refused_under_the_default_policy(self, client, cast, session) -> None:
        project_id = project(client, cast.owner.headers)
        before = webhook_count(session)
        for url in ("http://127.0.0.1:8080/hook", "http://10.0.0.5/", "http://[::1]/x"):
            response = client.post(
                "/api/webhooks",
                json={"url": url, "project": project_id},
                headers=cast.owner.headers,
            )
            body = assert_error(response, 400, "url")
            assert "outbound address policy" in body["validation_errors"]["url"][0]
        assert webhook_count(session) == before

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"url": ""}, "url"),
            ({"url": "ftp://8.8.8.8/x"}, "url"),
            ({"url": "not a url"}, "url"),
            ({"actions": ["NOPE"]}, "actions"),
            ({"headers": {"Bad Header": "x"}}, "headers"),
            ({"headers": {"X-Ok": "a\r\nInjected: 1"}}, "headers"),
            ({"headers": {"Content-Type": "text/plain"}}, "headers"),
            ({"headers": ["not", "an", "object"]}, "headers"),
            ({"secret": "short"}, "secret"),
            ({"project": 999_999}, "project"),
            ({"actions": ["PROJECT_CREATED"]}, "actions"),
        ],
    )
    def test_bad_input_names_the_field_and_creates_nothing(
        self, client, cast, session, fields, field
    ) -> None:
        project_id = project(client, cast.owner.headers)
        before = webhook_count(session)
        response = client.post(
            "/api/webhooks",
            json={"url": PUBLIC_URL, "project": project_id, **fields},
            headers=cast.owner.headers,
        )
        assert_error(response, 400, field)
        assert webhook_count(session) == before

    def test_annotator_and_anonymous_are_refused(self, client, cast, session) -> None:
        project_id = project(client, cast.owner.headers)
        before = webhook_count(session)
        body = {"url": PUBLIC_URL, "project": project_id}
        assert_error(client.post("/api/webhooks", json=body, headers=cast.annotator.headers), 403)
        assert_error(client.post("/api/webhooks", json=body), 401)
        assert webhook_count(session) == before

    def test_project_of_another_organization_is_refused(self, client, cast, session) -> None:
        theirs = project(client, cast.outsider.headers)
        response = client.post(
            "/api/webhooks", json={"url": PUBLIC_URL, "project": theirs}, headers=cast.owner.headers
        )
        assert_error(response, 400, "project")


class TestReadChangeDelete:
    def test_list_by_project_and_organization(self, client, cast) -> None:
        project_id = project(client, cast.owner.headers)
        mine = create(client, cast.owner.headers, project=project_id)
        org_wide = create(client, cast.owner.headers)
        listed = client.get(f"/api/webhooks?project={project_id}", headers=cast.owner.headers)
        assert [w["id"] for w in listed.json()] == [mine["id"]]
        # Without `project`, Label Studio lists the organization's webhooks.
        listed = client.get("/api/webhooks/", headers=cast.owner.headers)
        assert [w["id"] for w in listed.json()] == [org_wide["id"]]
        outsider = client.get("/api/webhooks", headers=cast.outsider.headers)
        assert outsider.status_code == 200 and outsider.json() == []

    def test_another_organization_gets_404(self, client, cast, session) -> None:
        hook = create(client, cast.owner.headers)
        for method in ("get", "patch", "delete"):
            kwargs: dict[str, Any] = {"json": {"is_active": False}} if method == "patch" else {}
            response = getattr(client, method)(
                f"/api/webhooks/{hook['id']}", headers=cast.outsider.headers, **kwargs
            )
            assert_error(response, 404)
        row = session.get(Webhook, hook["id"])
        assert row is not None and row.is_active is True

    def test_patch_put_and_delete(self, client, cast, session) -> None:
        project_id = project(client, cast.owner.headers)
        hook = create(client, cast.owner.headers, project=project_id)
        response = client.patch(
            f"/api/webhooks/{hook['id']}",
            json={"send_for_all_actions": False, "actions": ["ANNOTATION_CREATED"]},
            headers=cast.owner.headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["actions"] == ["ANNOTATION_CREATED"]
        assert response.json()["project"] == project_id
        refused = client.patch(
            f"/api/webhooks/{hook['id']}",
            json={"url": "http://169.254.169.254/latest/meta-data"},
            headers=cast.owner.headers,
        )
        assert_error(refused, 400, "url")
        session.expire_all()
        assert session.get(Webhook, hook["id"]).url == PUBLIC_URL  # type: ignore[union-attr]
        assert_error(
            client.put(f"/api/webhooks/{hook['id']}", json={}, headers=cast.owner.headers),
            400,
            "url",
        )
        replaced = client.put(
            f"/api/webhooks/{hook['id']}/",
            json={"url": OTHER_PUBLIC_URL, "is_active": False},
            headers=cast.owner.headers,
        )
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["url"] == OTHER_PUBLIC_URL and replaced.json()["is_active"] is False
        assert_error(
            client.delete(f"/api/webhooks/{hook['id']}", headers=cast.annotator.headers), 403
        )
        deleted = client.delete(f"/api/webhooks/{hook['id']}", headers=cast.owner.headers)
        assert deleted.status_code == 204 and deleted.content == b""
        assert session.get(Webhook, hook["id"]) is None

    def test_info_lists_label_studio_actions(self, client, cast) -> None:
        body = client.get("/api/webhooks/info", headers=cast.owner.headers).json()
        assert body["PROJECT_CREATED"] == {
            "name": "Project created",
            "description": "A project is created.",
            "key": "project",
            "organization-only": True,
        }
        assert body["ANNOTATIONS_CREATED"]["key"] == "annotation"
        assert body["REVIEW_CREATED"]["key"] == "review"
        assert len(body) == 15
        project_only = client.get(
            "/api/webhooks/info?organization-only=false", headers=cast.owner.headers
        ).json()
        assert "PROJECT_CREATED" not in project_only and "TASKS_CREATED" in project_only
        assert_error(client.get("/api/webhooks/info"), 401)


class TestDeliveryLog:
    def test_test_send_and_redeliver_create_deliveries(self, client, cast, session) -> None:
        hook = create(client, cast.owner.headers)
        response = client.post(f"/api/webhooks/{hook['id']}/test", headers=cast.owner.headers)
        assert response.status_code == 201, response.text
        first = response.json()
        assert first["action"] == "WEBHOOK_TEST" and first["status"] == "queued"
        again = client.post(
            f"/api/webhooks/{hook['id']}/deliveries/{first['id']}/redeliver",
            headers=cast.owner.headers,
        )
        assert again.status_code == 201, again.text
        assert again.json()["redelivery_of"] == first["id"]
        assert again.json()["event_id"] == first["event_id"]
        log = client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=cast.owner.headers)
        assert [d["id"] for d in log.json()] == [again.json()["id"], first["id"]]
        session.expire_all()
        rows = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook["id"])
        ).all()
        assert len(rows) == 2
        assert_error(
            client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=cast.outsider.headers),
            404,
        )
        assert_error(
            client.get(
                f"/api/webhooks/{hook['id']}/deliveries?limit=0", headers=cast.owner.headers
            ),
            400,
            "limit",
        )

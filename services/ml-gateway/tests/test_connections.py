"""`/api/ml`: connecting a backend checks it live, answers carry Label Studio's fields with
the credentials masked, and every route is scoped to the caller's organization and role."""

from __future__ import annotations

import logging

import pytest
from labelops_common.outbound import OutboundPolicy
from labelops_testing.ml_backend import Behaviour, ProtocolBackend, running_backend
from ml_gateway.backends.guard import Guards
from ml_gateway.backends.models import MLBackend
from ml_gateway.backends.protocol import BackendCallFailed, Endpoint, ProtocolClient
from ml_gateway.settings import Settings
from sqlalchemy import func, select

from .conftest import World

FIELDS = {
    "id", "project", "url", "title", "description", "state", "readable_state", "error_message",
    "is_interactive", "auth_method", "basic_auth_user", "basic_auth_pass_is_set",
    "extra_params", "timeout", "model_version", "auto_update", "created_at", "updated_at",
}  # fmt: skip


def _count(world: World) -> int:
    with world.stack.ml_runtime.database.session() as session:
        return int(
            session.scalar(select(func.count()).where(MLBackend.project_id == world.project)) or 0
        )


def test_connect_calls_health_and_setup_with_the_config(
    world: World, backend: ProtocolBackend
) -> None:
    body = world.connect(
        backend,
        description="keywords",
        extra_params={"threshold": 0.5},
        is_interactive=True,
        timeout=20,
    )
    assert set(body) == FIELDS
    assert (body["state"], body["readable_state"]) == ("CO", "Connected")
    assert body["model_version"] == "keyword-1" and body["error_message"] is None
    assert body["extra_params"] == {"threshold": 0.5} and body["timeout"] == 20
    assert [r.path for r in backend.received] == ["/health", "/setup"]
    setup = backend.calls("/setup")[0].body
    assert setup["schema"].startswith("<View>")
    assert setup["project"].startswith(f"{world.project}.") and setup["extra_params"] == {
        "threshold": 0.5
    }
    assert set(setup) == {"project", "schema", "hostname", "access_token", "extra_params"}

    listed = world.stack.ml.get(
        f"/api/ml?project={world.project}", headers=world.cast.owner.headers
    )
    assert listed.status_code == 200 and [b["id"] for b in listed.json()] == [body["id"]]
    one = world.stack.ml.get(f"/api/ml/{body['id']}/", headers=world.cast.annotator.headers)
    assert one.status_code == 200 and one.json()["url"] == backend.url
    interactive = world.stack.ml.get(
        f"/api/ml?project={world.project}&is_interactive=false", headers=world.cast.owner.headers
    )
    assert interactive.json() == []


@pytest.mark.parametrize(
    ("behaviour", "faulty", "state_hint"),
    [
        (Behaviour.NOT_A_BACKEND, ("/health",), "not JSON"),
        (Behaviour.ERROR_500, ("/health",), "health check failed: /health answered 500"),
        (Behaviour.ERROR_500, ("/setup",), "setup failed: /setup answered 500"),
        (Behaviour.HANG, ("/health",), "did not answer within 1 s"),
    ],
)
def test_a_server_that_does_not_speak_the_protocol_is_refused_with_the_reason(
    world: World, behaviour: Behaviour, faulty: tuple[str, ...], state_hint: str
) -> None:
    with running_backend(behaviour=behaviour, faulty_paths=faulty, hang_seconds=3) as server:
        answer = world.stack.ml.post(
            "/api/ml",
            json={"url": server.url, "project": world.project},
            headers=world.cast.owner.headers,
        )
    assert answer.status_code == 400, answer.text
    reason = answer.json()["validation_errors"]["url"][0]
    assert reason.startswith("Can't connect to ML backend") and state_hint in reason
    assert _count(world) == 0


def test_an_unreachable_server_is_refused(world: World) -> None:
    from labelops_runtime.suite import free_loopback_port

    url = f"http://127.0.0.1:{free_loopback_port()}"  # nothing listens there
    answer = world.stack.ml.post(
        "/api/ml", json={"url": url, "project": world.project}, headers=world.cast.owner.headers
    )
    assert answer.status_code == 400
    assert "cannot be reached" in answer.json()["validation_errors"]["url"][0]
    assert _count(world) == 0


def test_the_outbound_policy_refuses_private_addresses(
    world: World, backend: ProtocolBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = world.stack.ml_runtime.http_app.state.protocol_client
    monkeypatch.setattr(client, "policy", OutboundPolicy(allow_private_networks=False))
    for url, reason in (
        (backend.url, "loopback address"),
        ("http://169.254.169.254/latest", "link-local address"),
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
    ):
        answer = world.stack.ml.post(
            "/api/ml", json={"url": url, "project": world.project}, headers=world.cast.owner.headers
        )
        assert answer.status_code == 403, answer.text
        assert reason in answer.json()["validation_errors"]["url"][0]
    assert backend.received == [] and _count(world) == 0
    # The pinned client refuses at connection time too (a check that was skipped or a DNS
    # answer that changed cannot slip through).
    strict = ProtocolClient(
        Settings(), OutboundPolicy(), Guards(concurrency=1, failure_threshold=1, reset_seconds=1)
    )
    with pytest.raises(BackendCallFailed) as refused:
        strict.health(Endpoint(backend_id=1, url=backend.url))
    assert refused.value.kind == "refused" and backend.received == []


def test_credentials_are_sent_but_never_shown_or_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with running_backend(basic_auth=("robot", "s3cret-pass")) as server:
        refused = world.stack.ml.post(
            "/api/ml",
            json={"url": server.url, "project": world.project, "auth_method": "BASIC_AUTH",
                  "basic_auth_user": "robot", "basic_auth_pass": "wrong-pass"},
            headers=world.cast.owner.headers,
        )  # fmt: skip
        assert refused.status_code == 400 and "401" in refused.json()["detail"]
        body = world.connect(
            server,
            auth_method="BASIC_AUTH",
            basic_auth_user="robot",
            basic_auth_pass="s3cret-pass",
        )
        assert server.calls("/health")[-1].authorization.startswith("Basic ")
    assert body["basic_auth_pass_is_set"] is True and "basic_auth_pass" not in body
    assert body["basic_auth_user"] == "robot"
    # A password inside the URL is masked too.
    with running_backend() as server:
        host = server.url.removeprefix("http://")
        inline = world.connect(server, url=f"http://robot:inline-secret@{host}")
    assert inline["url"] == f"http://robot:***@{host}"
    listed = world.stack.ml.get(
        f"/api/ml?project={world.project}", headers=world.cast.owner.headers
    )
    assert "s3cret-pass" not in listed.text and "inline-secret" not in listed.text
    assert "s3cret-pass" not in caplog.text and "inline-secret" not in caplog.text
    assert "wrong-pass" not in caplog.text


def test_patch_rechecks_a_new_url_and_keeps_the_old_one_on_failure(
    world: World, backend: ProtocolBackend
) -> None:
    body = world.connect(backend)
    path = f"/api/ml/{body['id']}"
    renamed = world.stack.ml.patch(
        path, json={"title": "renamed", "is_interactive": True}, headers=world.cast.owner.headers
    )
    assert renamed.status_code == 200
    assert (renamed.json()["title"], renamed.json()["is_interactive"]) == ("renamed", True)
    with running_backend(behaviour=Behaviour.ERROR_500, faulty_paths=("/health",)) as broken:
        moved = world.stack.ml.patch(
            path, json={"url": broken.url}, headers=world.cast.owner.headers
        )
    assert moved.status_code == 400
    assert world.backend_row(body["id"]).url == backend.url
    bad = world.stack.ml.patch(path, json={"timeout": -1}, headers=world.cast.owner.headers)
    assert bad.status_code == 400 and "timeout" in bad.json()["validation_errors"]
    gone = world.stack.ml.delete(path, headers=world.cast.owner.headers)
    assert gone.status_code == 204 and _count(world) == 0


def test_permission_matrix(world: World, backend: ProtocolBackend) -> None:
    body = world.connect(backend)
    path = f"/api/ml/{body['id']}"
    cast, ml = world.cast, world.stack.ml
    new = {"url": backend.url, "project": world.project}
    # Anonymous: 401 everywhere.
    assert ml.get(f"/api/ml?project={world.project}").status_code == 401
    assert ml.get(path).status_code == 401
    # Another organization: not found.
    assert ml.get(path, headers=cast.outsider.headers).status_code == 404
    assert (
        ml.get(f"/api/ml?project={world.project}", headers=cast.outsider.headers).status_code == 404
    )
    assert ml.post("/api/ml", json=new, headers=cast.outsider.headers).status_code == 404
    assert ml.delete(path, headers=cast.outsider.headers).status_code == 404
    # An annotator sees, but may not change.
    assert ml.get(path, headers=cast.annotator.headers).status_code == 200
    assert ml.post("/api/ml", json=new, headers=cast.annotator.headers).status_code == 403
    assert ml.patch(path, json={"title": "x"}, headers=cast.annotator.headers).status_code == 403
    assert ml.delete(path, headers=cast.annotator.headers).status_code == 403
    # A manager may.
    assert ml.patch(path, json={"title": "m"}, headers=cast.manager.headers).status_code == 200
    assert world.backend_row(body["id"]).title == "m"
    # The project parameter is required (Label Studio: 404), and validated.
    assert ml.get("/api/ml", headers=cast.owner.headers).status_code == 404
    bad = ml.post("/api/ml", json={"project": world.project}, headers=cast.owner.headers)
    assert bad.status_code == 400 and "url" in bad.json()["validation_errors"]


def test_versions(world: World, backend: ProtocolBackend) -> None:
    body = world.connect(backend)
    answer = world.stack.ml.get(f"/api/ml/{body['id']}/versions", headers=world.cast.owner.headers)
    assert answer.status_code == 200 and answer.json()["versions"] == ["keyword-1", "keyword-0"]

"""The audit log across the five services, driven as a team would: a scripted session
through the official SDK and HTTP, then `GET /api/audit-logs/` lists exactly its changes,
in order, and nothing else (no reads, no refused attempts), never a secret.

The suite here allows private networks: the S3 emulator, the ML backend and the webhook
receiver listen on loopback.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from label_studio_sdk import LabelStudio
from labelops_runtime.suite import free_loopback_port
from labelops_testing import emulators
from labelops_testing.databases import embedded_data_dir
from labelops_testing.ml_backend import running_backend
from labelops_testing.receivers import webhook_receiver

from .conftest import (  # type: ignore[import-not-found]
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ADMIN_TOKEN,
    SECRET,
    RunningProcess,
    service_databases,
    start_labelops,
    stop,
)

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="positive"/><Choice value="negative"/>
  </Choices>
</View>"""
NEW_CONFIG = CONFIG.replace(
    '<Choice value="negative"/>', '<Choice value="negative"/><Choice value="neutral"/>'
)
ACCESS_KEY = "AKIAAUDITLOGTEST0001"
S3_SECRET = "audit-s3-secret-0123456789abcdefghijklm"
WEBHOOK_HEADER_SECRET = "Bearer audit-webhook-header-secret-42"
WEBHOOK_SIGNING_SECRET = "audit-webhook-signing-secret-0123456789"
ANNOTATOR_PASSWORD = "annotator-password-0123"
ML_PASSWORD = "ml-basic-auth-password-77"


@pytest.fixture(scope="module")
def audit_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    tmp = tmp_path_factory.mktemp("audit-suite")
    port = free_loopback_port()
    env = {
        "LABELOPS_PORT": str(port),
        "LABELOPS_SECRET_KEY": SECRET,
        "LABELOPS_ADMIN_EMAIL": ADMIN_EMAIL,
        "LABELOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LABELOPS_ADMIN_TOKEN": ADMIN_TOKEN,
        "LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
    }
    with embedded_data_dir() as data_dir, service_databases() as urls:
        env.update(urls, LABELOPS_DATA_DIR=str(data_dir))
        running = start_labelops(["serve", "--target", "all"], env, tmp / "labelops.log", port)
        yield running
        stop(running)


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulators.moto_s3(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


def audit_log(base_url: str, token: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of the log, following `next`, oldest first."""
    entries: list[dict[str, Any]] = []
    url: str | None = f"{base_url}/api/audit-logs/"
    query: dict[str, Any] | None = params
    while url is not None:
        answer = httpx.get(url, params=query, headers={"Authorization": f"Token {token}"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        entries.extend(body["results"])
        url, query = body["next"], None
    return list(reversed(entries))


def test_a_scripted_session_is_audited_exactly(
    audit_suite: RunningProcess, s3_endpoint: str
) -> None:
    base = audit_suite.base_url
    headers = {"Authorization": f"Token {ADMIN_TOKEN}"}
    http = httpx.Client(base_url=base, headers=headers, timeout=30)
    sdk = LabelStudio(base_url=base, api_key=ADMIN_TOKEN)
    assert audit_log(base, ADMIN_TOKEN) == []

    project = sdk.projects.create(title="Audited", label_config=CONFIG)
    assert project.id is not None
    pid = project.id
    # Refused and read-only requests leave nothing.
    bad = http.patch(f"/api/projects/{pid}", json={"label_config": "<View><Nope"})
    assert bad.status_code == 400
    sdk.projects.get(id=pid)
    sdk.projects.update(id=pid, label_config=NEW_CONFIG)

    annotator = http.post(
        "/api/users",
        json={
            "email": "annotator@example.com",
            "password": ANNOTATOR_PASSWORD,
            "username": "annotator",
            "role": "annotator",
        },
    )
    assert annotator.status_code == 201, annotator.text
    annotator_id = annotator.json()["id"]
    assert http.post(f"/api/projects/{pid}/members/", json={"user": 999_999}).status_code in {
        400,
        404,
    }
    added = http.post(f"/api/projects/{pid}/members/", json={"user": annotator_id})
    assert added.status_code == 201, added.text

    sdk.projects.import_tasks(
        id=pid, request=[{"text": "good day"}, {"text": "bad day"}, {"text": "a day"}]
    )
    task_ids = [task.id for task in sdk.tasks.list(project=pid)]
    assert len(task_ids) == 3
    choice = [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["positive"]},
        }
    ]
    annotation = sdk.annotations.create(id=task_ids[0], result=choice)
    assert annotation.id is not None
    choice[0]["value"] = {"choices": ["negative"]}
    sdk.annotations.update(id=annotation.id, result=choice)
    assert http.delete("/api/tasks/999999999").status_code == 404
    sdk.tasks.delete(id=task_ids[2])

    snapshot = sdk.projects.exports.create(pid, title="nightly")

    bucket = f"audit-{uuid.uuid4().hex[:8]}"
    emulators.moto_s3_client(
        s3_endpoint, access_key=ACCESS_KEY, secret_key=S3_SECRET
    ).create_bucket(Bucket=bucket)
    storage = sdk.import_storage.s3.create(
        project=pid,
        title="Bucket",
        bucket=bucket,
        s3endpoint=s3_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=S3_SECRET,
        region_name="us-east-1",
    )

    with (
        running_backend(basic_auth=("ml-user", ML_PASSWORD)) as backend,
        webhook_receiver() as receiver,
    ):
        ml = http.post(
            "/api/ml",
            json={
                "project": pid,
                "url": backend.url,
                "title": "keywords",
                "auth_method": "BASIC_AUTH",
                "basic_auth_user": "ml-user",
                "basic_auth_pass": ML_PASSWORD,
            },
        )
        assert ml.status_code == 201, ml.text
        hook = http.post(
            "/api/webhooks",
            json={
                "project": pid,
                "url": receiver.url,
                "headers": {"Authorization": WEBHOOK_HEADER_SECRET},
                "secret": WEBHOOK_SIGNING_SECRET,
                "send_for_all_actions": False,
                "actions": ["TASKS_DELETED"],
            },
        )
        assert hook.status_code == 201, hook.text

    reset = http.post("/api/current-user/reset-token")
    assert reset.status_code == 201, reset.text
    new_token = reset.json()["token"]

    entries = audit_log(base, new_token)
    assert [(e["action"], e["object_type"]) for e in entries] == [
        ("project.created", "project"),
        ("label_config.updated", "project"),
        ("user.created", "user"),
        ("project_member.added", "user"),
        ("tasks.imported", "import"),
        ("annotation.created", "annotation"),
        ("annotation.updated", "annotation"),
        ("task.deleted", "task"),
        ("export.created", "export"),
        ("storage.created", "s3_import_storage"),
        ("ml_backend.created", "ml_backend"),
        ("webhook.created", "webhook"),
        ("token.reset", "user"),
    ]
    assert [e["service"] for e in entries] == [
        "project-svc",
        "project-svc",
        "project-svc",
        "project-svc",
        "task-svc",
        "task-svc",
        "task-svc",
        "task-svc",
        "export-svc",
        "storage-sync",
        "ml-gateway",
        "project-svc",
        "project-svc",
    ]
    assert {e["actor_email"] for e in entries} == {ADMIN_EMAIL}
    assert all(e["client_ip"] == "127.0.0.1" for e in entries)
    by_action = {e["action"]: e for e in entries}
    assert by_action["project.created"]["object_id"] == str(pid)
    assert by_action["project.created"]["changes"]["title"] == {"old": None, "new": "Audited"}
    assert by_action["label_config.updated"]["changes"] == {"label_config": {"changed": True}}
    assert by_action["tasks.imported"]["changes"]["task_count"] == 3
    assert by_action["annotation.updated"]["changes"]["result"] == {"changed": True}
    assert by_action["task.deleted"]["object_id"] == str(task_ids[2])
    assert by_action["export.created"]["object_id"] == str(snapshot.id)
    assert by_action["storage.created"]["object_id"] == str(storage.id)
    assert by_action["storage.created"]["changes"]["settings.bucket"]["new"] == bucket
    assert by_action["ml_backend.created"]["object_id"] == str(ml.json()["id"])
    assert by_action["webhook.created"]["object_id"] == str(hook.json()["id"])
    assert all(
        e["project"] == pid for e in entries if e["action"] not in {"user.created", "token.reset"}
    )

    # Filters: an object, an action, a project, an actor, a time window.
    one = audit_log(base, new_token, object_type="annotation", object_id=str(annotation.id))
    assert [e["action"] for e in one] == ["annotation.created", "annotation.updated"]
    assert [e["action"] for e in audit_log(base, new_token, action="task.deleted")] == [
        "task.deleted"
    ]
    assert len(audit_log(base, new_token, project=str(pid))) == 11
    assert audit_log(base, new_token, actor=str(annotator_id)) == []
    window = audit_log(
        base,
        new_token,
        **{"from": entries[4]["created_at"], "to": entries[8]["created_at"]},
    )
    assert [e["action"] for e in window] == [e["action"] for e in entries[4:9]]
    # Small pages give the same log.
    assert audit_log(base, new_token, page_size="2") == entries
    bad_filter = httpx.get(
        f"{base}/api/audit-logs/",
        params={"from": "yesterday"},
        headers={"Authorization": f"Token {new_token}"},
    )
    assert bad_filter.status_code == 400
    assert "from" in bad_filter.text

    # Exports stream the same entries.
    token_headers = {"Authorization": f"Token {new_token}"}
    jsonl = httpx.get(
        f"{base}/api/audit-logs/export", params={"format": "jsonl"}, headers=token_headers
    )
    assert jsonl.status_code == 200
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert list(reversed(lines)) == entries
    csv_answer = httpx.get(
        f"{base}/api/audit-logs/export", params={"format": "csv"}, headers=token_headers
    )
    assert csv_answer.status_code == 200
    assert csv_answer.text.splitlines()[0].startswith("id,service,organization,actor")
    assert len(csv_answer.text.splitlines()) == len(entries) + 1
    assert (
        httpx.get(
            f"{base}/api/audit-logs/export", params={"format": "xml"}, headers=token_headers
        ).status_code
        == 400
    )

    # No secret anywhere: credentials, header values, signing secret, passwords, tokens.
    everything = json.dumps(entries) + jsonl.text + csv_answer.text
    for secret in (
        S3_SECRET,
        WEBHOOK_HEADER_SECRET,
        "audit-webhook-header-secret-42",
        WEBHOOK_SIGNING_SECRET,
        ANNOTATOR_PASSWORD,
        ML_PASSWORD,
        new_token,
        ADMIN_TOKEN,
    ):
        assert secret not in everything

    # Reading the log changed nothing in it.
    assert audit_log(base, new_token) == entries

    # An annotator may not read it.
    annotator_http = httpx.Client(base_url=base, timeout=30)
    login = annotator_http.post(
        "/user/login", json={"email": "annotator@example.com", "password": ANNOTATOR_PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert annotator_http.get("/api/audit-logs/").status_code == 403
    assert annotator_http.get("/api/audit-logs/export").status_code == 403
    assert httpx.get(f"{base}/api/audit-logs/").status_code == 401

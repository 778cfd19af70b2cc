"""Webhooks through the official SDK, delivered to a real receiver on loopback by the
single-process suite: events flow task-svc → `events` → project-svc → `webhooks` → HTTP.
And refused, under the chart's default outbound policy, when they point at loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError
from labelops_runtime.suite import free_loopback_port
from labelops_testing.databases import scratch_redis_url
from labelops_testing.receivers import webhook_receiver
from project_svc.webhooks import signing

from .conftest import (  # type: ignore[import-not-found]
    ADMIN_ENV,
    ADMIN_TOKEN,
    SECRET,
    RunningProcess,
    service_databases,
    start_service,
    stop,
)

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""
HEADERS = {"Authorization": f"Token {ADMIN_TOKEN}"}
SIGNING_SECRET = "sdk-test-signing-secret-0123456789"


def test_sdk_drives_webhooks_and_the_receiver_gets_signed_retried_deliveries(suite) -> None:
    sdk = LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)
    with webhook_receiver(statuses=[500]) as receiver:
        project = sdk.projects.create(title="Hooks", label_config=CONFIG)
        hook = sdk.webhooks.create(
            url=receiver.url,
            project=project.id,
            send_for_all_actions=False,
            actions=["TASKS_CREATED", "ANNOTATION_CREATED"],
            headers={"X-Team": "ml"},
            request_options={"additional_body_parameters": {"secret": SIGNING_SECRET}},
        )
        assert hook.id and hook.project == project.id and hook.headers == {"X-Team": "********"}
        listed = sdk.webhooks.list(project=str(project.id))
        assert [w.id for w in listed] == [hook.id]
        assert sdk.webhooks.get(id=hook.id).actions == ["TASKS_CREATED", "ANNOTATION_CREATED"]

        task = sdk.tasks.create(project=project.id, data={"text": "good film"})
        # The first request answered 500; it is retried (after ~1 s) and then delivered.
        receiver.wait_for(2, timeout=60)
        annotation = sdk.annotations.create(
            id=task.id,
            result=[
                {
                    "from_name": "sentiment",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["Positive"]},
                }
            ],
        )
        requests = receiver.wait_for(3, timeout=60)

        assert [r.answered for r in requests] == [500, 200, 200]
        assert [r.json()["action"] for r in requests] == [
            "TASKS_CREATED",
            "TASKS_CREATED",
            "ANNOTATION_CREATED",
        ]
        for request in requests:
            assert signing.verify(
                SIGNING_SECRET, request.body, request.headers["x-labelops-signature-256"]
            )
            assert request.headers["x-team"] == "ml"
        failed, retried, annotated = requests
        assert failed.headers["x-labelops-delivery"] == retried.headers["x-labelops-delivery"]
        assert retried.headers["x-labelops-attempt"] == "2"
        tasks_body = retried.json()
        assert [t["id"] for t in tasks_body["tasks"]] == [task.id]
        assert tasks_body["tasks"][0]["data"] == {"text": "good film"}
        assert tasks_body["project"]["id"] == project.id
        body = annotated.json()
        assert body["annotation"]["id"] == annotation.id
        assert body["annotation"]["result"][0]["value"] == {"choices": ["Positive"]}
        assert body["task"]["id"] == task.id and body["project"]["title"] == "Hooks"

        log = httpx.get(
            f"{suite.base_url}/api/webhooks/{hook.id}/deliveries", headers=HEADERS
        ).json()
        assert [(d["action"], d["status"], d["attempts"]) for d in log] == [
            ("ANNOTATION_CREATED", "succeeded", 1),
            ("TASKS_CREATED", "succeeded", 2),
        ]
        assert log[1]["last_error"] is None and log[1]["response_status"] == 200

        updated = sdk.webhooks.update(id=hook.id, is_active=False, url=receiver.url + "?v=2")
        assert updated.is_active is False and updated.url.endswith("?v=2")
        sdk.tasks.create(project=project.id, data={"text": "not sent: inactive"})
        sdk.webhooks.delete(id=hook.id)
        assert sdk.webhooks.list(project=str(project.id)) == []
        assert len(receiver.requests) == 3


@pytest.fixture()
def project_svc_as_charted(tmp_path: Path) -> Iterator[RunningProcess]:
    """project-svc alone under the chart's default outbound policy (`outbound.
    allowPrivateNetworks: false`), unlike the suite, whose receivers listen on loopback."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with scratch_redis_url() as broker, service_databases(("project-svc",)) as database_urls:
        env = {
            **database_urls,
            **ADMIN_ENV,
            "LABELOPS_DATA_DIR": str(data_dir),
            "LABELOPS_SECRET_KEY": SECRET,
            "LABELOPS_BROKER_URL": broker,
            "LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "false",
        }
        running = start_service(
            "project-svc",
            env,
            tmp_path,
            http_port=free_loopback_port(),
            grpc_port=free_loopback_port(),
        )
        try:
            yield running
        finally:
            stop(running)


def test_sdk_webhook_to_loopback_is_refused_under_the_chart_default(
    project_svc_as_charted,
) -> None:
    sdk = LabelStudio(base_url=project_svc_as_charted.base_url, api_key=ADMIN_TOKEN)
    for url in ("http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/hook"):
        with pytest.raises(ApiError) as refused:
            sdk.webhooks.create(url=url)
        assert refused.value.status_code == 400, url
        reasons = refused.value.body["validation_errors"]["url"]
        assert "outbound address policy" in reasons[0], reasons
    assert sdk.webhooks.list() == []

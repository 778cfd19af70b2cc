"""Webhook deliveries against a real HTTP receiver: events become deliveries, each is
signed, a failing receiver is retried then succeeds, and the outbound policy is applied on
every send. Job bodies run here; the messages they would send are captured (`sent`)."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from labelops_common.db import utcnow
from labelops_common.events import Event, run_handlers, run_handlers_for_batch
from labelops_common.outbound import OutboundPolicy, OutboundRefused
from labelops_common.service import ServiceRuntime
from project_svc.projects.models import Project
from project_svc.webhooks import jobs as webhook_jobs
from project_svc.webhooks import service as webhooks
from project_svc.webhooks import signing
from project_svc.webhooks.delivery import RetryRule, Sender, WebhookHttp, attempt_delivery
from project_svc.webhooks.models import Webhook, WebhookDelivery
from project_svc.webhooks.schemas import WebhookFields
from sqlalchemy import select
from sqlalchemy.orm import Session

LOOPBACK_ALLOWED = OutboundPolicy(allow_private_networks=True)
SIGNING_SECRET = "receiver-shared-secret-0123456789"

pytestmark = pytest.mark.usefixtures("sent", "project_svc_handlers_only")


@pytest.fixture()
def project_svc_handlers_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only project-svc's event handlers run here: other services' handlers are
    registered when their modules are imported (by other tests in this process), but their
    services are not built in this one."""
    from labelops_common import events

    monkeypatch.setattr(
        events,
        "_HANDLERS",
        {
            name: {key: h for key, h in handlers.items() if key.startswith("project_svc.")}
            for name, handlers in events._HANDLERS.items()
        },
    )


@pytest.fixture()
def org(factory) -> int:
    return int(factory.organization("Hooks"))


@pytest.fixture()
def project(session: Session, org: int) -> Project:
    project = Project(organization_id=org, title="Hooked", label_config="<View></View>")
    session.add(project)
    session.commit()
    return project


def add_webhook(
    session: Session,
    secret_key: str,
    *,
    org: int,
    url: str,
    project_id: int | None,
    **fields: Any,
) -> Webhook:
    webhook, _ = webhooks.create_webhook(
        session,
        organization_id=org,
        project_id=project_id,
        created_by_id=None,
        fields=WebhookFields(url=url, secret=SIGNING_SECRET, **fields),
        secret_key=secret_key,
        policy=LOOPBACK_ALLOWED,
    )
    session.commit()
    return webhook


def make_sender(
    runtime: ServiceRuntime,
    secret_key: str,
    *,
    policy: OutboundPolicy = LOOPBACK_ALLOWED,
    max_attempts: int = 5,
    resent: list[tuple[int, float]] | None = None,
) -> Iterator[Sender]:
    resources: Any = runtime.job_resources
    with policy.connections() as connections:
        yield Sender(
            session_factory=runtime.database.new_session,
            http=WebhookHttp(connections=connections, timeout_seconds=5),
            secret_key=secret_key,
            project_payloads=resources.project_payloads,
            read_tasks=resources.read_tasks,
            # Retries due at once (within the early tolerance), so the test can run them.
            retry=RetryRule(
                max_attempts=max_attempts,
                backoff_seconds=0.05,
                max_backoff_seconds=0.05,
                window_seconds=3600,
            ),
            resend=lambda delivery_id, countdown: (resent if resent is not None else []).append(
                (delivery_id, countdown)
            ),
            worker_id="test-worker",
            lease_seconds=30,
        )


@pytest.fixture()
def resent() -> list[tuple[int, float]]:
    return []


@pytest.fixture()
def sender(runtime, secret_key, resent) -> Iterator[Sender]:
    yield from make_sender(runtime, secret_key, resent=resent)


def event(name: str, project: int, **payload: Any) -> Event:
    return Event(
        id=uuid.uuid4().hex,
        name=name,
        project_id=project,
        payload=payload,
        occurred_at=utcnow().isoformat(),
    )


def deliveries_of(session: Session, webhook: Webhook) -> list[WebhookDelivery]:
    session.expire_all()
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook.id)
            .order_by(WebhookDelivery.id)
        )
    )


class TestEventsBecomeDeliveries:
    def test_matching_webhooks_get_one_delivery_each_once(
        self, session, runtime, secret_key, org, project, factory, sent
    ) -> None:
        url = "http://127.0.0.1:9/hook"
        project_hook = add_webhook(session, secret_key, org=org, url=url, project_id=project.id)
        org_hook = add_webhook(session, secret_key, org=org, url=url, project_id=None)
        only_updates = add_webhook(
            session,
            secret_key,
            org=org,
            url=url,
            project_id=project.id,
            send_for_all_actions=False,
            actions=["ANNOTATION_UPDATED"],
        )
        inactive = add_webhook(
            session, secret_key, org=org, url=url, project_id=project.id, is_active=False
        )
        other_org = factory.organization("Elsewhere")
        elsewhere = add_webhook(session, secret_key, org=other_org, url=url, project_id=None)

        created = event("ANNOTATION_CREATED", project.id, annotation_id=1, task_id=2)
        assert run_handlers(created) == {}
        # task-svc's events do not name the organization: it is read once and remembered.
        assert runtime.job_resources.project_organizations[project.id] == org
        # A redelivered event (same id) creates nothing more.
        assert run_handlers(created) == {}
        assert len(deliveries_of(session, project_hook)) == 1
        assert len(deliveries_of(session, org_hook)) == 1
        for hook in (only_updates, inactive, elsewhere):
            assert deliveries_of(session, hook) == []
        queued = {delivery_id for delivery_id, _ in sent}
        assert queued == {
            deliveries_of(session, project_hook)[0].id,
            deliveries_of(session, org_hook)[0].id,
        }
        # Organization-only actions go to organization webhooks only.
        run_handlers(
            event("PROJECT_CREATED", project.id, project_id=project.id, organization_id=org)
        )
        assert len(deliveries_of(session, project_hook)) == 1
        assert [d.action for d in deliveries_of(session, org_hook)] == [
            "ANNOTATION_CREATED",
            "PROJECT_CREATED",
        ]

    def test_internal_events_are_never_delivered(
        self, session, secret_key, org, project, sent
    ) -> None:
        """TASK_AGREEMENT_UPDATED is for LabelOps' own consumers (review, analytics): a
        webhook sending every action still gets none, while a Label Studio action after it
        is delivered."""
        url = "http://127.0.0.1:9/hook"
        everything = add_webhook(session, secret_key, org=org, url=url, project_id=project.id)
        organization_wide = add_webhook(session, secret_key, org=org, url=url, project_id=None)
        assert (
            run_handlers(event("TASK_AGREEMENT_UPDATED", project.id, task=1, agreement=0.5)) == {}
        )
        assert deliveries_of(session, everything) == []
        assert deliveries_of(session, organization_wide) == []
        assert sent == []
        run_handlers(event("ANNOTATION_CREATED", project.id, annotation_id=1, task_id=1))
        assert [d.action for d in deliveries_of(session, everything)] == ["ANNOTATION_CREATED"]

    def test_large_task_events_are_batched_by_5000(
        self, session, secret_key, org, project, sent
    ) -> None:
        hook = add_webhook(
            session, secret_key, org=org, url="http://127.0.0.1:9/", project_id=project.id
        )
        run_handlers(
            event(
                "TASKS_CREATED",
                project.id,
                task_count=12_000,
                first_task_id=101,
                last_task_id=12_100,
            )
        )
        batches = [d.payload["event"] for d in deliveries_of(session, hook)]
        assert [(b["first_task_id"], b["last_task_id"]) for b in batches] == [
            (101, 5100),
            (5101, 10100),
            (10101, 12100),
        ]


class TestSending:
    def test_delivery_is_signed_and_carries_label_studio_payload(
        self, session, secret_key, org, project, sender, receiver
    ) -> None:
        hook = add_webhook(
            session,
            secret_key,
            org=org,
            url=receiver.url,
            project_id=project.id,
            headers={"Authorization": "Bearer receiver-token"},
        )
        run_handlers(
            event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
        )
        [delivery] = deliveries_of(session, hook)
        assert attempt_delivery(sender, delivery.id) == "succeeded"

        [request] = receiver.wait_for(1)
        body = request.json()
        assert body["action"] == "PROJECT_UPDATED"
        assert body["project"]["id"] == project.id and body["project"]["title"] == "Hooked"
        assert "task_number" in body["project"]
        assert request.headers["content-type"] == "application/json"
        assert request.headers["authorization"] == "Bearer receiver-token"
        assert request.headers["x-labelops-event"] == "PROJECT_UPDATED"
        assert request.headers["x-labelops-delivery"] == str(delivery.id)
        signature = request.headers["x-labelops-signature-256"]
        assert signing.verify(SIGNING_SECRET, request.body, signature)
        assert not signing.verify("another-secret-entirely-000000", request.body, signature)
        assert not signing.verify(SIGNING_SECRET, request.body + b" ", signature)

        [done] = deliveries_of(session, hook)
        assert done.status == "succeeded" and done.attempts == 1
        assert done.response_status == 200 and done.latency_ms is not None
        assert done.delivered_at is not None and done.error is None
        # A finished delivery's duplicate message does nothing.
        assert attempt_delivery(sender, delivery.id) == "skipped"
        assert len(receiver.requests) == 1

    def test_review_actions_carry_the_review(
        self, session, secret_key, org, project, sender, receiver
    ) -> None:
        """task-svc's REVIEW_* events reach a webhook that asked for them, with the review
        (ids and the verdict) under `review`; one that did not ask gets nothing."""
        hook = add_webhook(
            session,
            secret_key,
            org=org,
            url=receiver.url,
            project_id=project.id,
            send_for_all_actions=False,
            actions=["REVIEW_CREATED"],
        )
        review = {"review": 5, "annotation": 4, "task": 3, "reviewer": 2, "annotator": 1}
        run_handlers(event("REVIEW_UPDATED", project.id, **review, accepted=True))
        assert deliveries_of(session, hook) == []
        run_handlers(event("REVIEW_CREATED", project.id, **review, accepted=False))
        [delivery] = deliveries_of(session, hook)
        assert attempt_delivery(sender, delivery.id) == "succeeded"
        [request] = receiver.wait_for(1)
        body = request.json()
        assert body["action"] == "REVIEW_CREATED"
        assert body["review"] == {
            "id": 5,
            "annotation": 4,
            "task": 3,
            "reviewer": 2,
            "annotator": 1,
            "accepted": False,
        }
        assert body["project"]["id"] == project.id

    def test_receiver_answering_500_is_retried_then_succeeds(
        self, session, secret_key, org, project, sender, receiver, resent
    ) -> None:
        receiver.set_statuses([500, 503])
        hook = add_webhook(session, secret_key, org=org, url=receiver.url, project_id=project.id)
        run_handlers(
            event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
        )
        [delivery] = deliveries_of(session, hook)

        assert attempt_delivery(sender, delivery.id) == "queued"
        [after_first] = deliveries_of(session, hook)
        assert after_first.attempts == 1 and after_first.error == "HTTP 500"
        assert after_first.response_status == 500 and after_first.next_attempt_at is not None
        assert resent == [(delivery.id, pytest.approx(0.05, abs=0.05))]

        assert attempt_delivery(sender, delivery.id) == "queued"
        assert attempt_delivery(sender, delivery.id) == "succeeded"
        requests = receiver.wait_for(3)
        assert [r.answered for r in requests] == [500, 503, 200]
        assert [r.headers["x-labelops-attempt"] for r in requests] == ["1", "2", "3"]
        # Every attempt carries the same delivery id and a valid signature of its body.
        assert {r.headers["x-labelops-delivery"] for r in requests} == {str(delivery.id)}
        for request in requests:
            assert signing.verify(
                SIGNING_SECRET, request.body, request.headers["x-labelops-signature-256"]
            )
        [done] = deliveries_of(session, hook)
        assert done.status == "succeeded" and done.attempts == 3 and done.error is None

    def test_retries_are_bounded(
        self, session, runtime, secret_key, org, project, receiver
    ) -> None:
        receiver.set_statuses([500] * 10)
        hook = add_webhook(session, secret_key, org=org, url=receiver.url, project_id=project.id)
        run_handlers(
            event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
        )
        [delivery] = deliveries_of(session, hook)
        delivery.max_attempts = 2
        session.commit()
        for sender in make_sender(runtime, secret_key, max_attempts=2):
            assert attempt_delivery(sender, delivery.id) == "queued"
            assert attempt_delivery(sender, delivery.id) == "failed"
            assert attempt_delivery(sender, delivery.id) == "skipped"
        [done] = deliveries_of(session, hook)
        assert done.status == "failed" and done.attempts == 2 and done.error == "HTTP 500"
        assert len(receiver.requests) == 2

    def test_client_error_is_not_retried(
        self, session, secret_key, org, project, sender, receiver
    ) -> None:
        receiver.set_statuses([410])
        hook = add_webhook(session, secret_key, org=org, url=receiver.url, project_id=project.id)
        run_handlers(
            event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
        )
        [delivery] = deliveries_of(session, hook)
        assert attempt_delivery(sender, delivery.id) == "failed"
        assert deliveries_of(session, hook)[0].error == "HTTP 410"

    def test_loopback_url_is_refused_at_send_under_the_default_policy(
        self, session, runtime, secret_key, org, project, receiver
    ) -> None:
        # Saved while private networks were allowed; the policy is now the default one.
        hook = add_webhook(session, secret_key, org=org, url=receiver.url, project_id=project.id)
        run_handlers(
            event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
        )
        [delivery] = deliveries_of(session, hook)
        for sender in make_sender(runtime, secret_key, policy=OutboundPolicy()):
            assert attempt_delivery(sender, delivery.id) == "failed"
        [done] = deliveries_of(session, hook)
        assert done.error is not None and done.error.startswith("refused:")
        assert "loopback" in done.error
        assert receiver.requests == []

    def test_early_message_waits_for_its_retry_time(
        self, session, secret_key, org, project, sender, receiver, resent
    ) -> None:
        hook = add_webhook(session, secret_key, org=org, url=receiver.url, project_id=project.id)
        run_handlers(
            event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
        )
        [delivery] = deliveries_of(session, hook)
        delivery.next_attempt_at = utcnow() + timedelta(seconds=30)
        session.commit()
        assert attempt_delivery(sender, delivery.id) == "skipped"
        assert resent and resent[0][0] == delivery.id and 25 < resent[0][1] <= 30
        assert deliveries_of(session, hook)[0].attempts == 0
        assert receiver.requests == []

    def test_deleted_webhook_cancels_its_delivery_and_payload_can_be_off(
        self, session, secret_key, org, project, sender, receiver
    ) -> None:
        hook = add_webhook(
            session,
            secret_key,
            org=org,
            url=receiver.url,
            project_id=project.id,
            send_payload=False,
        )
        run_handlers(event("TASKS_DELETED", project.id, task_count=2, task_ids=[5, 6]))
        [first] = deliveries_of(session, hook)
        assert attempt_delivery(sender, first.id) == "succeeded"
        assert receiver.wait_for(1)[0].json() == {"action": "TASKS_DELETED"}
        run_handlers(event("TASKS_DELETED", project.id, task_count=1, task_ids=[7]))
        _, second = deliveries_of(session, hook)
        hook.is_active = False
        session.commit()
        assert attempt_delivery(sender, second.id) == "cancelled"
        assert len(receiver.requests) == 1


class TestCoalescing:
    def test_one_attempt_sends_the_webhooks_due_deliveries(
        self, session, secret_key, org, project, sender, receiver
    ) -> None:
        hook = add_webhook(session, secret_key, org=org, url=receiver.url, project_id=project.id)
        other = add_webhook(session, secret_key, org=org, url=receiver.url, project_id=None)
        for _ in range(3):
            run_handlers(
                event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
            )
        first, second, third = deliveries_of(session, hook)
        third.next_attempt_at = utcnow() + timedelta(minutes=5)  # not due: left alone
        session.commit()
        assert attempt_delivery(sender, second.id) == "succeeded"
        requests = receiver.wait_for(2)
        # Sent side by side (`Sender.concurrency`): in no particular order.
        assert sorted(r.headers["x-labelops-delivery"] for r in requests) == sorted(
            [str(second.id), str(first.id)]
        )
        statuses = {d.id: d.status for d in deliveries_of(session, hook)}
        assert statuses == {first.id: "succeeded", second.id: "succeeded", third.id: "queued"}
        # The other webhook's deliveries of the same events are not taken along.
        assert {d.status for d in deliveries_of(session, other)} == {"queued"}
        # The coalesced delivery's own message finds nothing to do.
        assert attempt_delivery(sender, first.id) == "skipped"
        assert len(receiver.requests) == 2

    def test_a_message_whose_delivery_was_taken_sends_the_webhooks_others(
        self, session, secret_key, org, project, sender, receiver
    ) -> None:
        """New deliveries get one message per `coalesce` of them; any message of the
        webhook then takes its due deliveries, even when its own was sent already."""
        hook = add_webhook(session, secret_key, org=org, url=receiver.url, project_id=project.id)
        for _ in range(3):
            run_handlers(
                event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
            )
        first, second, third = deliveries_of(session, hook)
        one_at_a_time = dataclasses.replace(sender, coalesce=1)
        assert attempt_delivery(one_at_a_time, first.id) == "succeeded"
        assert len(receiver.wait_for(1)) == 1
        assert attempt_delivery(sender, first.id) == "skipped"  # its own is done...
        receiver.wait_for(3)  # ...the others went with it
        assert {d.id: d.status for d in deliveries_of(session, hook)} == {
            first.id: "succeeded",
            second.id: "succeeded",
            third.id: "succeeded",
        }
        assert attempt_delivery(sender, third.id) == "skipped"
        assert len(receiver.requests) == 3

    def test_a_batch_of_events_sends_one_message_per_coalesced_attempt(
        self, session, secret_key, org, project, sent, monkeypatch
    ) -> None:
        monkeypatch.setattr(webhook_jobs, "COALESCE", 2)
        hook = add_webhook(
            session, secret_key, org=org, url="http://127.0.0.1:9/hook", project_id=project.id
        )
        batch = [
            event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
            for _ in range(5)
        ]
        assert run_handlers_for_batch(batch) == {}
        made = deliveries_of(session, hook)
        assert len(made) == 5
        # Five deliveries made in one transaction, two per attempt: three messages.
        assert [delivery_id for delivery_id, _ in sent] == [made[0].id, made[2].id, made[4].id]

    def test_deliveries_left_past_half_the_lease_are_handed_back(
        self, session, runtime, secret_key, org, project, receiver
    ) -> None:
        hook = add_webhook(session, secret_key, org=org, url=receiver.url, project_id=project.id)
        for _ in range(2):
            run_handlers(
                event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
            )
        first, second = deliveries_of(session, hook)
        resent: list[tuple[int, float]] = []
        for sender in make_sender(runtime, secret_key, resent=resent):
            # One request at a time: the lease is looked at before each.
            hurried = dataclasses.replace(sender, lease_seconds=0.0, concurrency=1)
            assert attempt_delivery(hurried, first.id) == "succeeded"
        assert len(receiver.wait_for(1)) == 1
        after = {d.id: (d.status, d.attempts, d.lease_owner) for d in deliveries_of(session, hook)}
        assert after == {first.id: ("succeeded", 1, None), second.id: ("queued", 0, None)}
        assert resent == [(second.id, 0.0)]

    @pytest.mark.parametrize(
        ("answer_seconds", "deliveries", "sequential_seconds", "most_at_once"),
        [
            # A slow receiver still gets `concurrency` requests at once (after the first,
            # which outlasts `sequential_seconds`): its latency does not cap the webhook.
            (0.3, 6, 0.1, 3),
            # Within `sequential_seconds`, the attempt sends from its own thread, one by one.
            (0.01, 4, 30.0, 1),
        ],
        ids=["slow-receiver-side-by-side", "quick-receiver-one-at-a-time"],
    )
    def test_how_many_requests_an_attempt_has_in_flight(
        self,
        session,
        runtime,
        secret_key,
        org,
        project,
        answer_seconds,
        deliveries,
        sequential_seconds,
        most_at_once,
    ) -> None:
        with slow_receiver(seconds=answer_seconds) as receiver:
            hook = add_webhook(
                session, secret_key, org=org, url=receiver.url, project_id=project.id
            )
            for _ in range(deliveries):
                run_handlers(
                    event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
                )
            first, *_ = deliveries_of(session, hook)
            for sender in make_sender(runtime, secret_key):
                timed = dataclasses.replace(
                    sender, concurrency=3, sequential_seconds=sequential_seconds
                )
                assert attempt_delivery(timed, first.id) == "succeeded"
            assert {d.status for d in deliveries_of(session, hook)} == {"succeeded"}
            assert receiver.received == deliveries
            assert receiver.most_at_once == most_at_once


class _SlowReceiver:
    """Answers 200 after a pause, counting the requests it holds at once."""

    def __init__(self, seconds: float) -> None:
        self.received = 0
        self.most_at_once = 0
        self._at_once = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received += 1
                    receiver._at_once += 1
                    receiver.most_at_once = max(receiver.most_at_once, receiver._at_once)
                time.sleep(seconds)
                with receiver._lock:
                    receiver._at_once -= 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@contextmanager
def slow_receiver(seconds: float) -> Iterator[_SlowReceiver]:
    receiver = _SlowReceiver(seconds)
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


class _TakingOver:
    """An HTTP client that lets another worker take `delivery_id`'s row over while its
    request is in flight (as when the attempt outlived its lease)."""

    def __init__(self, http: Any, runtime: ServiceRuntime, delivery_id: int) -> None:
        self.http = http
        self.runtime = runtime
        self.delivery_id = delivery_id

    def post(self, url: str, **kwargs: Any) -> Any:
        with self.runtime.database.new_session() as other:
            row = other.get(WebhookDelivery, self.delivery_id)
            if row is not None:
                row.lease_owner = "another-worker"
                other.commit()
        return self.http.post(url, **kwargs)


class TestRecording:
    def test_one_attempts_outcomes_are_recorded_together(
        self, session, secret_key, org, project, sender, receiver, resent
    ) -> None:
        """A batch with a success and a retry: each row gets its own outcome."""
        receiver.set_statuses([500])
        hook = add_webhook(session, secret_key, org=org, url=receiver.url, project_id=project.id)
        for _ in range(2):
            run_handlers(
                event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
            )
        first, second = deliveries_of(session, hook)
        one_by_one = dataclasses.replace(sender, concurrency=1)
        assert attempt_delivery(one_by_one, first.id) == "queued"
        after = {d.id: d for d in deliveries_of(session, hook)}
        failed, sent_ok = after[first.id], after[second.id]
        assert (failed.status, failed.response_status, failed.error) == ("queued", 500, "HTTP 500")
        assert failed.next_attempt_at is not None and failed.finished_at is None
        assert failed.delivered_at is None and failed.lease_owner is None
        assert (sent_ok.status, sent_ok.response_status, sent_ok.error) == ("succeeded", 200, None)
        assert sent_ok.delivered_at is not None and sent_ok.finished_at is not None
        assert sent_ok.next_attempt_at is None and sent_ok.latency_ms is not None
        assert resent == [(first.id, pytest.approx(0.05, abs=0.05))]

    def test_a_row_taken_over_mid_attempt_keeps_the_other_workers_lease(
        self, session, runtime, secret_key, org, project, sender, receiver, resent
    ) -> None:
        hook = add_webhook(session, secret_key, org=org, url=receiver.url, project_id=project.id)
        for _ in range(2):
            run_handlers(
                event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
            )
        first, second = deliveries_of(session, hook)
        taking_over = dataclasses.replace(
            sender, http=_TakingOver(sender.http, runtime, second.id), concurrency=1
        )
        assert attempt_delivery(taking_over, first.id) == "succeeded"
        assert len(receiver.wait_for(2)) == 2
        after = {d.id: d for d in deliveries_of(session, hook)}
        assert (after[first.id].status, after[first.id].lease_owner) == ("succeeded", None)
        # The other worker's row is left as it holds it: running, its lease, no outcome.
        taken = after[second.id]
        assert (taken.status, taken.lease_owner) == ("running", "another-worker")
        assert taken.response_status is None and taken.delivered_at is None
        assert resent == []


class TestWebhookHttp:
    """The pinned keep-alive connections deliveries are sent on (`WebhookHttp`)."""

    def test_request_carries_its_framing_and_headers(self, receiver) -> None:
        with LOOPBACK_ALLOWED.connections() as connections:
            http = WebhookHttp(connections=connections, timeout_seconds=5)
            for n in range(2):  # the second request reuses the connection
                body = b'{"action":"WEBHOOK_TEST","n":%d}' % n
                assert http.post(receiver.url, content=body, headers={"X-Test": "yes"}) == 200
        first, second = receiver.wait_for(2)
        assert first.body == b'{"action":"WEBHOOK_TEST","n":0}'
        assert second.body == b'{"action":"WEBHOOK_TEST","n":1}'
        assert second.headers["content-length"] == str(len(second.body))
        assert second.headers["x-test"] == "yes"
        assert second.headers["host"] == receiver.url.split("//", 1)[1].split("/", 1)[0]

    def test_a_scheme_the_policy_refuses_is_not_sent(self) -> None:
        with LOOPBACK_ALLOWED.connections() as connections:
            http = WebhookHttp(connections=connections, timeout_seconds=5)
            with pytest.raises(OutboundRefused, match="scheme 'ftp' is not allowed"):
                http.post("ftp://127.0.0.1/hook", content=b"{}", headers={})

    def test_a_redirect_is_the_receivers_answer_not_followed(
        self, session, secret_key, org, project, sender, receiver
    ) -> None:
        receiver.set_statuses([307])
        hook = add_webhook(session, secret_key, org=org, url=receiver.url, project_id=project.id)
        run_handlers(
            event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
        )
        [delivery] = deliveries_of(session, hook)
        assert attempt_delivery(sender, delivery.id) == "failed"
        [done] = deliveries_of(session, hook)
        assert (done.error, done.response_status) == ("HTTP 307", 307)
        assert len(receiver.requests) == 1

    def test_a_receiver_that_is_down_is_retried(
        self, session, secret_key, org, project, sender, resent
    ) -> None:
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        hook = add_webhook(
            session, secret_key, org=org, url=f"http://127.0.0.1:{port}/", project_id=project.id
        )
        run_handlers(
            event("PROJECT_UPDATED", project.id, project_id=project.id, organization_id=org)
        )
        [delivery] = deliveries_of(session, hook)
        assert attempt_delivery(sender, delivery.id) == "queued"
        [done] = deliveries_of(session, hook)
        assert done.error is not None and done.error.startswith("ConnectionRefusedError")
        assert done.response_status is None and done.next_attempt_at is not None
        assert resent == [(delivery.id, pytest.approx(0.05, abs=0.05))]

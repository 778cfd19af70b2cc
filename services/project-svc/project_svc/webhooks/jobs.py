"""Webhook jobs: events become deliveries (on `events`), deliveries are sent (on `webhooks`).

Every event is looked at (`ALL_EVENTS`), so actions other services add later (such as
`LABEL_LINK_*`) are delivered by name once they are published; an event no webhook
listens to costs one query.
"""

from __future__ import annotations

import threading

from labelops_common.events import ALL_EVENTS, Event, event_handler
from labelops_common.jobs import resources_of
from labelops_common.jobs.runner import default_worker_id
from labelops_common.queue import labelops_celery_app, labelops_task
from sqlalchemy.orm import Session

from project_svc.jobs import ProjectJobResources
from project_svc.webhooks import service
from project_svc.webhooks.delivery import COALESCE, RetryRule, Sender, attempt_delivery
from project_svc.webhooks.models import WebhookDelivery


@event_handler(ALL_EVENTS, consumer="project-svc", batch=True)
def create_webhook_deliveries(events: list[Event], session: Session) -> None:
    resources = resources_of(ProjectJobResources, bind=session.get_bind())
    deliveries = service.create_deliveries(
        session,
        events=events,
        max_attempts=resources.settings.webhook_max_attempts,
        project_organizations=resources.project_organizations,
    )
    # One attempt per `COALESCE` new deliveries of a webhook: each takes that many of its
    # webhook's due deliveries. Run here after the commit (the events worker takes the
    # `webhooks` queue too), not sent through the broker, whose round trip cost more CPU
    # than the attempt's requests; through the broker when this process has no room.
    made: dict[int, int] = {}
    for delivery in deliveries:
        if made.get(delivery.webhook_id, 0) % COALESCE == 0:
            deliver_webhook.run_here_after_commit(session, delivery.id)
        made[delivery.webhook_id] = made.get(delivery.webhook_id, 0) + 1


@labelops_task(
    name="project-svc.deliver_webhook",
    queue="webhooks",
    job_model=WebhookDelivery,
    resources=ProjectJobResources,
    # Failures are the delivery row's business (`delivery.py`), never Celery's retries.
    max_retries=0,
    autoretry_for=(),
)
def deliver_webhook(resources: ProjectJobResources, delivery_id: int) -> str:
    settings = resources.settings
    sender = Sender(
        session_factory=resources.database.new_session,
        http=resources.http,
        secret_key=resources.secret_key,
        project_payloads=resources.project_payloads,
        read_tasks=resources.read_tasks,
        retry=RetryRule(
            max_attempts=settings.webhook_max_attempts,
            backoff_seconds=settings.webhook_retry_backoff_seconds,
            max_backoff_seconds=settings.webhook_retry_max_backoff_seconds,
            window_seconds=settings.webhook_retry_window_seconds,
        ),
        resend=_send_later,
        worker_id=default_worker_id(),
        lease_seconds=settings.webhook_timeout_seconds * 2 + 30,
        concurrency=settings.webhook_send_concurrency,
    )
    return attempt_delivery(sender, delivery_id)


def _send_later(delivery_id: int, countdown: float) -> None:
    """Send the delivery's job again in `countdown` seconds. Without a broker (a bare
    service, a test client) a job runs in a thread at once, so wait in a timer first."""
    if labelops_celery_app() is None:
        timer = threading.Timer(countdown, deliver_webhook.send, args=(delivery_id,))
        timer.daemon = True
        timer.start()
        return
    deliver_webhook.send(delivery_id, countdown=countdown)

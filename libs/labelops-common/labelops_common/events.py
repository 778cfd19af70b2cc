"""Domain events: published after a commit, delivered by Celery to registered handlers.

An event is one Celery message on the `events` queue, sent only once the producing
transaction commits (`enqueue_after_commit`), carrying JSON only: an event id, the event
name (Label Studio's webhook action names), the project id, a small payload of ids (never
data, never an unbounded id list) and when it happened.

Consumers register handlers in their own modules (listed in the runtime's `JOB_MODULES`,
so every worker imports them)::

    @event_handler(ANNOTATION_CREATED, ANNOTATION_UPDATED)
    def export_on_save(event: Event) -> None: ...

The worker runs every handler registered in its process for the event. Each handler runs
on its own: when some fail, the message is retried for the failed ones only, so a handler
that succeeded is not run again by that retry. Delivery is still at least once (a worker
crash mid-message redelivers it whole, acks are late), so handlers must be idempotent,
keyed for example on `event.id`.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from celery import current_task
from prometheus_client import Counter
from sqlalchemy.orm import Session

from labelops_common.queue import enqueue_after_commit, labelops_celery_app, labelops_task
from labelops_common.queue.tasks import check_job_arguments

logger = logging.getLogger(__name__)

EVENTS_QUEUE = "events"
DELIVER_TASK = "labelops.events.deliver"

# Label Studio's webhook actions.
ANNOTATION_CREATED = "ANNOTATION_CREATED"
ANNOTATIONS_CREATED = "ANNOTATIONS_CREATED"
ANNOTATION_UPDATED = "ANNOTATION_UPDATED"
ANNOTATIONS_DELETED = "ANNOTATIONS_DELETED"
TASKS_CREATED = "TASKS_CREATED"
TASKS_DELETED = "TASKS_DELETED"
PROJECT_CREATED = "PROJECT_CREATED"
PROJECT_UPDATED = "PROJECT_UPDATED"
PROJECT_DELETED = "PROJECT_DELETED"
START_TRAINING = "START_TRAINING"
KNOWN_EVENTS = frozenset(
    {
        ANNOTATION_CREATED,
        ANNOTATIONS_CREATED,
        ANNOTATION_UPDATED,
        ANNOTATIONS_DELETED,
        TASKS_CREATED,
        TASKS_DELETED,
        PROJECT_CREATED,
        PROJECT_UPDATED,
        PROJECT_DELETED,
        START_TRAINING,
    }
)
#: Register for this to receive every event (e.g. webhooks "send for all actions").
ALL_EVENTS = "*"

#: Retries of a message whose handlers failed, with exponential backoff.
MAX_DELIVERY_RETRIES = 5

PUBLISHED = Counter("labelops_events_published_total", "Events sent after commit.", ["event"])
DROPPED = Counter(
    "labelops_events_dropped_total", "Events committed but not sent.", ["event", "reason"]
)
HANDLED = Counter(
    "labelops_event_handler_runs_total", "Event handler outcomes.", ["event", "handler", "outcome"]
)


@dataclass(frozen=True)
class Event:
    id: str
    name: str
    project_id: int
    payload: dict[str, Any]
    occurred_at: str


EventHandler = Callable[[Event], None]
H = TypeVar("H", bound=EventHandler)

#: Event name (or ALL_EVENTS) → handler name → handler, in registration order.
_HANDLERS: dict[str, dict[str, EventHandler]] = {}


def handler_name(handler: EventHandler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def event_handler(*events: str) -> Callable[[H], H]:
    """Register the decorated function for these events (ALL_EVENTS for every event)."""
    if not events:
        raise ValueError("event_handler needs at least one event name")
    for name in events:
        if name != ALL_EVENTS and name not in KNOWN_EVENTS:
            raise ValueError(f"unknown event {name!r}")

    def register(handler: H) -> H:
        for name in events:
            _HANDLERS.setdefault(name, {})[handler_name(handler)] = handler
        return handler

    return register


def unregister_handler(handler: EventHandler) -> None:
    """Remove a handler from every event (tests)."""
    for handlers in _HANDLERS.values():
        handlers.pop(handler_name(handler), None)


def handlers_for(event: str) -> dict[str, EventHandler]:
    return {**_HANDLERS.get(event, {}), **_HANDLERS.get(ALL_EVENTS, {})}


def new_event_id() -> str:
    return uuid.uuid4().hex


class _GuardedSend:
    """Sends the deliver message; a broker failure after the commit is logged, not raised.

    The producing transaction has already committed when this runs, so raising would turn
    a saved change into an error answer. A process that built no LabelOps Celery app (a
    bare test client, a tool) drops events with a warning rather than dialling Celery's
    default AMQP broker.
    """

    def __init__(self, event: str) -> None:
        self.event = event

    def apply_async(self, args: Any = (), kwargs: Any = None) -> None:
        app = labelops_celery_app()
        if app is None:
            DROPPED.labels(self.event, "no_broker").inc()
            logger.warning(
                "event dropped: no Celery app is configured in this process",
                extra={"event": self.event},
            )
            return
        try:
            app.tasks[DELIVER_TASK].apply_async(args=args, kwargs=kwargs, queue=EVENTS_QUEUE)
        except Exception:
            DROPPED.labels(self.event, "broker_error").inc()
            logger.exception("event not sent", extra={"event": self.event})
            return
        PUBLISHED.labels(self.event).inc()


def publish_after_commit(
    session: Session, event: str, *, project_id: int, payload: dict[str, Any]
) -> str:
    """Queue `event` to be sent when `session` commits (nothing is sent on rollback).

    Returns the event id. The payload must be JSON of ids and scalars, and small.
    """
    if event not in KNOWN_EVENTS:
        raise ValueError(f"unknown event {event!r}")
    event_id = new_event_id()
    occurred_at = datetime.now(UTC).isoformat()
    args = (event_id, event, int(project_id), payload, occurred_at)
    check_job_arguments(args, {})
    enqueue_after_commit(session, _GuardedSend(event), *args)
    return event_id


def run_handlers(event: Event, *, only: list[str] | None = None) -> dict[str, BaseException]:
    """Run the event's handlers (or only those named); return the failures by handler name."""
    handlers = handlers_for(event.name)
    if only is not None:
        handlers = {name: handlers[name] for name in only if name in handlers}
    failures: dict[str, BaseException] = {}
    for name, handler in handlers.items():
        try:
            handler(event)
        except Exception as error:
            failures[name] = error
            HANDLED.labels(event.name, name, "failed").inc()
            logger.exception(
                "event handler failed",
                extra={"event": event.name, "event_id": event.id, "handler": name},
            )
        else:
            HANDLED.labels(event.name, name, "succeeded").inc()
    return failures


@labelops_task(name=DELIVER_TASK, queue=EVENTS_QUEUE, max_retries=MAX_DELIVERY_RETRIES)
def deliver(
    event_id: str,
    event: str,
    project_id: int,
    payload: dict[str, Any],
    occurred_at: str,
    handlers: list[str] | None = None,
) -> None:
    """Run the handlers for one event; retry the failed ones only."""
    failures = run_handlers(
        Event(
            id=event_id, name=event, project_id=project_id, payload=payload, occurred_at=occurred_at
        ),
        only=handlers,
    )
    if not failures:
        return
    task = current_task
    retries = int(getattr(task.request, "retries", 0) or 0) if task else 0
    if task is None or retries >= MAX_DELIVERY_RETRIES:
        logger.error(
            "event handlers gave up",
            extra={"event": event, "event_id": event_id, "handlers": sorted(failures)},
        )
        raise next(iter(failures.values()))
    countdown = min(300.0, 2.0**retries) + random.uniform(0, 1)  # noqa: S311 - jitter
    raise task.retry(
        args=(event_id, event, project_id, payload, occurred_at),
        kwargs={"handlers": sorted(failures)},
        countdown=countdown,
        exc=next(iter(failures.values())),
    )

"""Domain events: published after a commit, delivered by Celery to registered handlers.

An event is sent to the `events` queue only once the producing transaction commits,
carrying JSON only: an event id, the event name (Label Studio's webhook action names), the
project id, a small payload of ids (never data, never an unbounded id list) and when it
happened. Committed events go to a per-process outbox whose thread sends them; events that
arrive within `events_linger_seconds` (0.5 s) of each other, or while it sends, share one
message (`deliver_batch`), so a busy server pays one publish (and a worker one task, and
each batch handler one transaction) for many events, and a request never waits for the
broker.

A consuming service registers handlers in one of its job modules (its `ServiceJobs` lists
the module and the `events` queue, so the workers of `events` build it and import them)::

    @event_handler(ANNOTATION_CREATED, ANNOTATION_UPDATED, consumer="export-svc")
    def export_on_save(event: Event, session: Session) -> None: ...

A handler that gains from seeing many events at once (one query for all of them, not
one each) registers with `batch=True` and takes `(events, session)`: the events of one
message that it has not applied yet, in their order, in one transaction.

The worker runs every handler registered in its process for the event. Each handler runs
on its own: when some fail, the message is retried for the failed ones only, so a handler
that succeeded is not run again by that retry. Delivery is still at least once (a worker
crash mid-message redelivers it whole, acks are late). A `consumer` handler is therefore
keyed on `event.id`: it runs in a transaction on the consumer's database (its registered
`JobResources`) that first records (event id, handler) in the consumer's
`processed_events` table (`ProcessedEventMixin`); a redelivered event finds the record
and the handler's effect is applied once. A handler without `consumer` gets the bare
event and must be idempotent on its own (`record_processed_event` is the same guard for a
handler that manages its own transaction).
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from celery import current_task
from kombu.exceptions import OperationalError as KombuOperationalError
from prometheus_client import Counter, Histogram
from sqlalchemy import String, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from labelops_common.db import utcnow
from labelops_common.jobs import job_resources
from labelops_common.queue import call_after_commit, labelops_celery_app, labelops_task
from labelops_common.queue.tasks import check_job_arguments
from labelops_common.settings import get_common_settings

logger = logging.getLogger(__name__)

EVENTS_QUEUE = "events"
DELIVER_TASK = "labelops.events.deliver"
DELIVER_BATCH_TASK = "labelops.events.deliver_batch"
#: At most this many events share one message.
MAX_EVENTS_PER_MESSAGE = 100
#: The outbox's pauses between tries while the broker is unreachable (doubling).
RETRY_FIRST_SECONDS = 0.2
RETRY_MAX_SECONDS = 5.0
#: Events a process keeps while the broker is unreachable; later ones are dropped.
MAX_PENDING_EVENTS = 100_000

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
LABEL_LINK_CREATED = "LABEL_LINK_CREATED"
LABEL_LINK_UPDATED = "LABEL_LINK_UPDATED"
LABEL_LINK_DELETED = "LABEL_LINK_DELETED"
# Label Studio Enterprise's review actions: payload {"review", "annotation", "task",
# "reviewer", "annotator", "accepted"} (ids, and the outcome).
REVIEW_CREATED = "REVIEW_CREATED"
REVIEW_UPDATED = "REVIEW_UPDATED"
REVIEWS_DELETED = "REVIEWS_DELETED"
#: Internal: payload {"task": id, "agreement": float or None}. Not one of the webhooks'
#: actions (`project_svc.webhooks.actions`), so no webhook delivers it.
TASK_AGREEMENT_UPDATED = "TASK_AGREEMENT_UPDATED"
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
        LABEL_LINK_CREATED,
        LABEL_LINK_UPDATED,
        LABEL_LINK_DELETED,
        REVIEW_CREATED,
        REVIEW_UPDATED,
        REVIEWS_DELETED,
        TASK_AGREEMENT_UPDATED,
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
SEND_FAILURES = Counter(
    "labelops_events_send_failures_total",
    "Tries of the outbox to reach the broker that failed (it tries again).",
)
HANDLED = Counter(
    "labelops_event_handler_runs_total", "Event handler outcomes.", ["event", "handler", "outcome"]
)
#: From the event's commit to a worker starting its handlers: how far behind consumers are.
LAG = Histogram(
    "labelops_event_lag_seconds",
    "Seconds from an event's commit to a worker starting its handlers.",
    ["event"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900),
)


@dataclass(frozen=True)
class Event:
    id: str
    name: str
    project_id: int
    payload: dict[str, Any]
    occurred_at: str


EventHandler = Callable[[Event], None]
#: A consumer's handler: the event and a session on the consumer's database, committed
#: together with the record that the event was processed.
ConsumerHandler = Callable[[Event, Session], None]
#: A consumer's batch handler (`batch=True`): several events, one session.
BatchConsumerHandler = Callable[[list[Event], Session], None]

#: Event name (or ALL_EVENTS) → handler name → handler, in registration order.
_HANDLERS: dict[str, dict[str, EventHandler]] = {}

#: The table of a consumer's processed events (`ProcessedEventMixin`).
PROCESSED_EVENTS_TABLE = "processed_events"


class ProcessedEventMixin:
    """The consumer's record of the events each handler has applied; a consuming service
    declares `class ProcessedEvent(ProcessedEventMixin, Base)` and migrates it."""

    __tablename__ = PROCESSED_EVENTS_TABLE

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    handler: Mapped[str] = mapped_column(String(255), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)


def record_processed_event(session: Session, *, event_id: str, handler: str) -> bool:
    """Record that `handler` applies event `event_id` in this transaction; False if it was
    recorded already (a redelivery: apply nothing). A concurrent delivery waits on the
    row until the first transaction ends, then sees it."""
    result = session.execute(
        text(
            f"INSERT INTO {PROCESSED_EVENTS_TABLE} (event_id, handler, processed_at)"  # noqa: S608 - a constant
            " VALUES (:event_id, :handler, :processed_at) ON CONFLICT DO NOTHING"
        ),
        {"event_id": event_id, "handler": handler, "processed_at": utcnow()},
    )
    return bool(getattr(result, "rowcount", 0))


#: `record_processed_events`' statement: one array of ids, so its text is the same whatever
#: the batch's size (compiled and prepared once).
_RECORD_PROCESSED_EVENTS = text(
    f"INSERT INTO {PROCESSED_EVENTS_TABLE} (event_id, handler, processed_at)"
    " SELECT unnest(CAST(:event_ids AS varchar[])), :handler, :processed_at"
    " ON CONFLICT DO NOTHING RETURNING event_id"
)


def record_processed_events(session: Session, *, event_ids: list[str], handler: str) -> set[str]:
    """`record_processed_event` for several events in one statement; returns the ids
    recorded now (the others were applied already)."""
    if not event_ids:
        return set()
    result = session.execute(
        _RECORD_PROCESSED_EVENTS,
        {"event_ids": list(event_ids), "handler": handler, "processed_at": utcnow()},
    )
    return {row[0] for row in result}


def handler_name(handler: Callable[..., None]) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def event_handler(
    *events: str, consumer: str | None = None, batch: bool = False
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register the decorated function for these events (ALL_EVENTS for every event).

    With `consumer` (a service name), the function takes `(event, session)` and runs once
    per event id: see the module's docstring. With `batch=True` as well, it takes
    `(events, session)`: every event of a message it has not applied yet, at once.
    """
    if not events:
        raise ValueError("event_handler needs at least one event name")
    if batch and consumer is None:
        raise ValueError("a batch handler needs a consumer (its events share a transaction)")
    for name in events:
        if name != ALL_EVENTS and name not in KNOWN_EVENTS:
            raise ValueError(f"unknown event {name!r}")

    def register(handler: Callable[..., None]) -> Callable[..., None]:
        registered: EventHandler = (
            handler if consumer is None else _AppliedOnce(handler, consumer=consumer, batch=batch)
        )
        for name in events:
            _HANDLERS.setdefault(name, {})[handler_name(handler)] = registered
        return handler

    return register


class _AppliedOnce:
    """A consumer's handler, applied once per event id (see the module's docstring).

    Called with one event, it runs in a transaction of its own. `apply_many` applies
    several events in one transaction (one commit instead of one per event): a worker
    draining a batched message pays the session and the commit once per handler.
    """

    def __init__(
        self,
        handler: ConsumerHandler | BatchConsumerHandler,
        *,
        consumer: str,
        batch: bool = False,
    ) -> None:
        self.handler = handler
        self.consumer = consumer
        self.batch = batch
        self.name = handler_name(handler)

    def __call__(self, event: Event) -> None:
        self.apply_many([event])

    def apply_many(self, events: list[Event]) -> list[Event]:
        """Apply every event in one transaction; returns those applied (not duplicates).
        Any failure rolls back all of them."""
        database = job_resources(self.consumer).database
        with database.session() as session:
            fresh = record_processed_events(
                session, event_ids=[event.id for event in events], handler=self.name
            )
            applied: list[Event] = []
            for event in events:
                if event.id in fresh:
                    fresh.discard(event.id)  # an id twice in one batch is applied once
                    applied.append(event)
                else:
                    HANDLED.labels(event.name, self.name, "duplicate").inc()
                    logger.info(
                        "event already processed",
                        extra={"event": event.name, "event_id": event.id, "handler": self.name},
                    )
            if self.batch:
                if applied:
                    self.handler(applied, session)  # type: ignore[arg-type]
            else:
                for event in applied:
                    self.handler(event, session)  # type: ignore[arg-type]
            session.commit()
        return applied


def unregister_handler(handler: Callable[..., None]) -> None:
    """Remove a handler from every event (tests)."""
    for handlers in _HANDLERS.values():
        handlers.pop(handler_name(handler), None)


def handlers_for(event: str) -> dict[str, EventHandler]:
    return {**_HANDLERS.get(event, {}), **_HANDLERS.get(ALL_EVENTS, {})}


def new_event_id() -> str:
    return uuid.uuid4().hex


#: (event id, event name, project id, payload, occurred at): `deliver`'s arguments.
EventArgs = tuple[str, str, int, dict[str, Any], str]


class _Outbox:
    """Committed events on their way to the broker, sent by one thread per process.

    Sending happens after the commit, so a broker failure is never raised into the request
    whose change is already saved. While the broker is unreachable (restarting, a network
    cut) the thread keeps the events and tries again with a growing pause, so an outage
    delays them instead of losing them; past `MAX_PENDING_EVENTS` waiting, newer ones are
    counted as dropped (`reason="outbox_full"`) rather than filling the memory. A process
    that exits waits a few seconds for the rest (`flush`). Delivery is otherwise unchanged:
    after commit, and lost if the process dies before sending, as it was between a commit
    and its publish. A process with no LabelOps Celery app (a bare test client, a tool)
    drops events with a warning rather than dialling Celery's default AMQP broker.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[EventArgs] = queue.SimpleQueue()
        self._unsent = 0
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._linger_seconds = 0.0

    def put(self, args: EventArgs) -> None:
        with self._changed:
            if self._thread is None or self._pid != os.getpid():
                # First use in this process (or in a forked child, which has no thread).
                self._queue = queue.SimpleQueue()
                self._unsent = 0
                self._pid = os.getpid()
                self._linger_seconds = get_common_settings().events_linger_seconds
                self._thread = threading.Thread(
                    target=self._run, name="labelops-events-outbox", daemon=True
                )
                self._thread.start()
            if self._unsent >= MAX_PENDING_EVENTS:
                DROPPED.labels(args[1], "outbox_full").inc()
                logger.error("event dropped: the outbox is full", extra={"event": args[1]})
                return
            self._unsent += 1
            self._queue.put(args)

    def flush(self, timeout: float) -> bool:
        """Wait until every event put so far is sent (or dropped); False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._unsent == 0, timeout=timeout)

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            # Linger a moment for the events of concurrent requests, to share the message.
            deadline = time.monotonic() + self._linger_seconds
            while len(batch) < MAX_EVENTS_PER_MESSAGE:
                try:
                    batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                failures = 0
                while not _send(batch, first_attempt=failures == 0):
                    failures += 1
                    time.sleep(min(RETRY_FIRST_SECONDS * 2 ** (failures - 1), RETRY_MAX_SECONDS))
            finally:
                with self._changed:
                    self._unsent -= len(batch)
                    self._changed.notify_all()


def _send(batch: list[EventArgs], *, first_attempt: bool = True) -> bool:
    """Hand `batch` to the broker; False if it could not be reached (the caller retries)."""
    names = [args[1] for args in batch]
    app = labelops_celery_app()
    if app is None:
        for name in names:
            DROPPED.labels(name, "no_broker").inc()
        logger.warning(
            "events dropped: no Celery app is configured in this process",
            extra={"events": sorted(set(names))},
        )
        return True
    try:
        if len(batch) == 1:
            app.tasks[DELIVER_TASK].apply_async(args=batch[0], queue=EVENTS_QUEUE)
        else:
            app.tasks[DELIVER_BATCH_TASK].apply_async(
                args=([list(args) for args in batch],), queue=EVENTS_QUEUE
            )
    except Exception as error:
        if not _broker_unreachable(app, error):
            # Not an outage: trying again would block every later event behind this one.
            for name in names:
                DROPPED.labels(name, "send_error").inc()
            logger.exception("events dropped: the broker refused them", extra={"events": names})
            return True
        SEND_FAILURES.inc()
        if first_attempt:
            logger.warning(
                "events not sent yet; retrying until the broker answers",
                extra={"events": sorted(set(names)), "error": type(error).__name__},
            )
        return False
    for name in names:
        PUBLISHED.labels(name).inc()
    return True


def _broker_unreachable(app: Any, error: Exception) -> bool:
    """Whether `error` says the broker could not be reached (worth waiting for), as
    opposed to a message it will never take."""
    if isinstance(error, OSError | KombuOperationalError):
        return True
    try:
        with app.connection_for_write() as connection:
            transient = (*connection.connection_errors, *connection.channel_errors)
    except Exception:
        return False
    return isinstance(error, transient)


_outbox = _Outbox()


def flush_sent_events(timeout: float = 5.0) -> bool:
    """Wait for this process's committed events to be handed to the broker."""
    return _outbox.flush(timeout)


atexit.register(flush_sent_events)


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
    args: EventArgs = (event_id, event, int(project_id), payload, occurred_at)
    check_job_arguments(args, {})
    call_after_commit(session, lambda: _outbox.put(args))
    return event_id


def _observe_lag(event: Event) -> None:
    with suppress(ValueError):
        occurred = datetime.fromisoformat(event.occurred_at)
        LAG.labels(event.name).observe(max(0.0, (datetime.now(UTC) - occurred).total_seconds()))


def run_handlers(event: Event, *, only: list[str] | None = None) -> dict[str, BaseException]:
    """Run the event's handlers (or only those named); return the failures by handler name."""
    if only is None:
        _observe_lag(event)
    handlers = handlers_for(event.name)
    if only is not None:
        handlers = {name: handlers[name] for name in only if name in handlers}
    failures: dict[str, BaseException] = {}
    for name, handler in handlers.items():
        error = _run_one(name, handler, event)
        if error is not None:
            failures[name] = error
    return failures


def _run_one(name: str, handler: EventHandler, event: Event) -> BaseException | None:
    try:
        handler(event)
    except Exception as error:
        HANDLED.labels(event.name, name, "failed").inc()
        logger.exception(
            "event handler failed",
            extra={"event": event.name, "event_id": event.id, "handler": name},
        )
        return error
    HANDLED.labels(event.name, name, "succeeded").inc()
    return None


def run_handlers_for_batch(events: list[Event]) -> dict[str, dict[str, BaseException]]:
    """Run the handlers of several events; return the failures by event id, then handler.

    Each handler takes its events in their order. A consumer handler applies all of them
    in one transaction; if that fails, it applies them one by one, so only the events that
    fail on their own are reported (and retried).
    """
    work: dict[str, tuple[EventHandler, list[Event]]] = {}
    for event in events:
        _observe_lag(event)
        for name, handler in handlers_for(event.name).items():
            work.setdefault(name, (handler, []))[1].append(event)
    failures: dict[str, dict[str, BaseException]] = {}
    for name, (handler, its_events) in work.items():
        if isinstance(handler, _AppliedOnce) and len(its_events) > 1:
            try:
                applied = handler.apply_many(its_events)
            except Exception:
                logger.info(
                    "event batch failed; applying its events one by one",
                    extra={"handler": name, "events": len(its_events)},
                    exc_info=True,
                )
            else:
                for event in applied:
                    HANDLED.labels(event.name, name, "succeeded").inc()
                continue
        for event in its_events:
            error = _run_one(name, handler, event)
            if error is not None:
                failures.setdefault(event.id, {})[name] = error
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


@labelops_task(name=DELIVER_BATCH_TASK, queue=EVENTS_QUEUE, max_retries=0)
def deliver_batch(batch: list[list[Any]]) -> None:
    """Run the handlers of several events; each event's failed handlers retry on their own.

    A consumer handler applies the batch's events in one transaction
    (`run_handlers_for_batch`). A failure is handed to `deliver` (one message per event,
    naming only the handlers that failed), so one broken handler neither blocks the rest of
    the batch nor reruns the handlers that succeeded.
    """
    events = [
        Event(id=event_id, name=event, project_id=project_id, payload=payload, occurred_at=at)
        for event_id, event, project_id, payload, at in batch
    ]
    failures = run_handlers_for_batch(events)
    for event in events:
        if event.id in failures:
            deliver.send(
                event.id,
                event.name,
                event.project_id,
                event.payload,
                event.occurred_at,
                handlers=sorted(failures[event.id]),
                countdown=1.0 + random.uniform(0, 1),  # noqa: S311 - jitter
            )

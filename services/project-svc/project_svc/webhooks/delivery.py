"""Sending one delivery: claim its row, build and sign the body, POST it, record the outcome.

Label Studio sends once with a 1 s timeout and forgets. Here a delivery is a row: a
failed attempt (a connection error, a timeout, 408, 429 or 5xx) goes back to queued
with an exponential backoff, until the attempts or the retry window run out. Other 4xx
answers are final (the receiver refuses the request itself), as is a URL the outbound
address policy refuses, which is checked on every connection the client makes.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from labelops_common.db import utcnow
from labelops_common.jobs import JobStatus
from labelops_common.outbound import OutboundRefused
from labelops_common.outbound.connections import REQUEST_ERRORS, PinnedConnections
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from project_svc.webhooks import metrics, signing
from project_svc.webhooks.models import WebhookDelivery
from project_svc.webhooks.payloads import (
    PayloadUnavailable,
    ProjectPayloads,
    TaskReader,
    build_body,
    task_ids_of,
)
from project_svc.webhooks.service import webhook_headers, webhook_secret

logger = logging.getLogger(__name__)

USER_AGENT = "LabelOps-Webhooks/1"
RETRYABLE_STATUSES = frozenset({408, 425, 429})
#: Actions whose bodies carry one task with its annotations, read from task-svc.
TASK_ACTIONS = frozenset({"ANNOTATION_CREATED", "ANNOTATION_UPDATED"})
#: At most this many due deliveries of one webhook are sent by one attempt; a batch of
#: new deliveries needs one message per this many (`jobs.create_webhook_deliveries`).
COALESCE = 50
#: A message that arrives this early for its retry time is sent again for later.
EARLY_TOLERANCE = timedelta(milliseconds=500)
#: An attempt sends one request at a time, from its own thread, for this long; then
#: `Sender.concurrency` at a time. A receiver answering in a few milliseconds gets its batch
#: before the switch, with no thread handoffs: on a busy host each handoff wakes a thread
#: that preempts the request handlers (`bench.webhooks`: with 8 at a time from the start,
#: the HTTP processes spent 0.5 to 1 ms more CPU per annotation). A slower receiver gets
#: them side by side.
SEQUENTIAL_SECONDS = 0.1


@dataclass(frozen=True)
class RetryRule:
    max_attempts: int
    backoff_seconds: float
    max_backoff_seconds: float
    window_seconds: float

    def delay(self, attempts: int) -> float:
        """Wait before the attempt after `attempts` attempts: 1, 2, 4, ... up to the max."""
        return float(min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempts - 1)))


@dataclass(frozen=True)
class WebhookHttp:
    """POSTs on the outbound policy's pinned keep-alive connections (`connections()`):
    `http.client`, since httpx's layers and h11's parser cost more CPU per delivery than
    the rest of the delivery. Redirects are not followed: a 3xx is the receiver's answer."""

    connections: PinnedConnections
    timeout_seconds: float
    #: The threads requests are sent from, kept for the process's life: an attempt sends
    #: its chunk of requests side by side here instead of starting threads of its own.
    senders: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=32, thread_name_prefix="webhook")
    )

    def post(self, url: str, *, content: bytes, headers: dict[str, str]) -> int:
        """The answer's status code; raises `OutboundRefused` or one of `REQUEST_ERRORS`."""
        return self.connections.post(
            url,
            content=content,
            headers={"Accept": "*/*", **headers},
            timeout=self.timeout_seconds,
        )


@dataclass(frozen=True)
class Sender:
    """What an attempt needs, from the service built in this process."""

    session_factory: Callable[[], Session]
    http: WebhookHttp
    secret_key: str
    project_payloads: ProjectPayloads
    read_tasks: TaskReader
    retry: RetryRule
    #: Sends the delivery's job again after `countdown` seconds.
    resend: Callable[[int, float], None]
    worker_id: str
    lease_seconds: float
    #: At most this many due deliveries of one webhook are sent by one attempt.
    coalesce: int = COALESCE
    #: An attempt's requests in flight at once after its first `sequential_seconds`: a
    #: receiver answering in 50 ms would otherwise cap a webhook at 20 deliveries a
    #: second, whatever the number of workers.
    concurrency: int = 8
    sequential_seconds: float = SEQUENTIAL_SECONDS


@dataclass
class _Attempt:
    status: str
    error: str | None = None
    response_status: int | None = None
    latency_ms: int | None = None
    retry: bool = False
    outcome: str = "failed"
    next_attempt_at: datetime | None = None


class _WebhookRow(NamedTuple):
    url: str
    send_payload: bool
    is_active: bool
    headers_encrypted: str
    secret_encrypted: str


_READ_WEBHOOK = text(
    """
    SELECT url, send_payload, is_active, headers_encrypted, secret_encrypted
    FROM webhooks WHERE id = :id
    """
)


@dataclass(frozen=True)
class _Target:
    """A webhook's URL with its decrypted headers and secret, read once per attempt."""

    url: str
    send_payload: bool
    headers: dict[str, str]
    secret: str


def _target(session: Session, sender: Sender, webhook_id: int) -> _Target | None:
    """Where the webhook's deliveries go, or None if it was deleted or switched off."""
    found = session.execute(_READ_WEBHOOK, {"id": webhook_id}).one_or_none()
    if found is None:
        return None
    webhook = _WebhookRow(*found)
    if not webhook.is_active:
        return None
    return _Target(
        url=webhook.url,
        send_payload=webhook.send_payload,
        headers=webhook_headers(webhook, secret_key=sender.secret_key),
        secret=webhook_secret(webhook, secret_key=sender.secret_key),
    )


def attempt_delivery(sender: Sender, delivery_id: int) -> str:
    """One attempt at the delivery; returns its status afterwards, or "skipped" when the
    message was not for now (finished, taken by another worker, or early).

    The attempt also takes up to `sender.coalesce - 1` other due deliveries of the same
    webhook (in id order, skipping any another worker holds) and sends them one at a time
    for `sender.sequential_seconds`, then `sender.concurrency` at a time on the client's
    sender threads, reading their tasks in one call and
    recording them in one commit: under a burst of events a worker pays the claim, the task
    reads and the bookkeeping once for many deliveries. A message whose own delivery was
    taken along by another attempt takes the webhook's remaining due ones, if any.
    """
    with sender.session_factory() as session:
        claimed = _claim(session, sender, delivery_id)
        if not claimed:
            return "skipped"
        target = _target(session, sender, claimed[0].webhook_id)
        read_tasks = _prefetched_tasks(sender, claimed) if target is not None else sender.read_tasks
        started = time.monotonic()
        status = "skipped"
        done: list[tuple[ClaimedDelivery, _Attempt]] = []
        width = max(1, sender.concurrency)
        first = 0
        while first < len(claimed):
            elapsed = time.monotonic() - started
            if first and elapsed > sender.lease_seconds / 2:
                # Past half the lease: hand the rest back before another worker may.
                _release(session, sender, claimed[first:])
                break
            size = 1 if elapsed < sender.sequential_seconds else width
            chunk = claimed[first : first + size]
            first += size
            results = _attempt_chunk(session, sender, chunk, target, read_tasks)
            for delivery, result in zip(chunk, results, strict=True):
                done.append((delivery, result))
                if delivery.id == delivery_id:
                    status = result.status
        _record(session, sender, done)
        # One commit for the batch. A crash before it sends these again after the lease (at
        # least once: the receiver sees the same X-LabelOps-Delivery, a higher attempt).
        session.commit()
        for delivery, result in done:
            _after_commit(sender, delivery, result)
        return status


def _attempt_chunk(
    session: Session,
    sender: Sender,
    chunk: list[ClaimedDelivery],
    target: _Target | None,
    read_tasks: TaskReader,
) -> list[_Attempt]:
    """Attempt these deliveries: bodies are built here (they read through the session),
    then the requests go out side by side from the client's sender threads (the first
    one from this thread, which would wait anyway)."""
    if target is None:
        cancelled = _Attempt(status=JobStatus.CANCELLED.value, outcome="cancelled")
        cancelled.error = "the webhook was deleted or switched off"
        return [replace(cancelled) for _ in chunk]
    prepared = [_prepare(session, sender, delivery, target, read_tasks) for delivery in chunk]
    requests = [
        (index, request) for index, request in enumerate(prepared) if isinstance(request, _Request)
    ]
    pending = {
        index: sender.http.senders.submit(_post, sender, chunk[index], target, request)
        for index, request in requests[1:]
    }
    results = {
        index: _post(sender, chunk[index], target, request) for index, request in requests[:1]
    }
    results.update((index, future.result()) for index, future in pending.items())
    return [
        request if isinstance(request, _Attempt) else results[index]
        for index, request in enumerate(prepared)
    ]


class ClaimedDelivery(NamedTuple):
    """What an attempt reads of a delivery row it claimed (`_CLAIM`)."""

    id: int
    webhook_id: int
    event_id: str
    action: str
    payload: dict[str, Any]
    occurred_at: datetime
    #: Counting this attempt.
    attempts: int
    max_attempts: int
    next_attempt_at: datetime | None
    created_at: datetime


#: `_claim`'s statement, one text for every call (built once, prepared once): the message's
#: delivery first (if due and free), then its webhook's other due ones in id order, locked
#: as they are picked (SKIP LOCKED), and claimed.
_CLAIM = text(
    """
    WITH picked AS (
        SELECT id FROM webhook_deliveries
        WHERE webhook_id = (SELECT webhook_id FROM webhook_deliveries WHERE id = :delivery_id)
            AND (status = :queued OR (status = :running AND lease_expires_at < :now))
            AND attempts < max_attempts
            AND (next_attempt_at IS NULL OR next_attempt_at <= :due_by)
        ORDER BY id = :delivery_id DESC, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE webhook_deliveries AS d SET
        status = :running,
        attempts = d.attempts + 1,
        lease_owner = :worker,
        lease_expires_at = :lease_expires_at,
        started_at = :now,
        updated_at = :now
    FROM picked
    WHERE d.id = picked.id
    RETURNING d.id, d.webhook_id, d.event_id, d.action, d.payload, d.occurred_at, d.attempts,
        d.max_attempts, d.next_attempt_at, d.created_at
    """
)


def _claim(session: Session, sender: Sender, delivery_id: int) -> list[ClaimedDelivery]:
    """Take the delivery if it is due and nobody holds it, with up to `coalesce - 1` more
    due ones of its webhook, in one transaction (row locks, SKIP LOCKED), so a duplicate
    message or a second worker never sends one twice. The delivery asked for comes first.

    A message whose delivery is already taken (an earlier attempt coalesced it) still takes
    its webhook's other due deliveries: one message is work for the webhook, so new
    deliveries need one message per `coalesce` of them, not one each.
    """
    now = utcnow()
    rows = session.execute(
        _CLAIM,
        {
            "delivery_id": delivery_id,
            "queued": JobStatus.QUEUED.value,
            "running": JobStatus.RUNNING.value,
            "now": now,
            "due_by": now + EARLY_TOLERANCE,
            "limit": max(1, sender.coalesce),
            "worker": sender.worker_id,
            "lease_expires_at": now + timedelta(seconds=sender.lease_seconds),
        },
    )
    claimed = [ClaimedDelivery(*row) for row in rows]
    session.commit()
    if all(delivery.id != delivery_id for delivery in claimed):
        _resend_if_early(session, sender, delivery_id)
    if not claimed:
        return []
    claimed.sort(key=lambda d: (d.id != delivery_id, d.id))
    for delivery in claimed:
        waited_from = delivery.next_attempt_at or delivery.created_at
        metrics.QUEUE_AGE.observe(max(0.0, (now - waited_from).total_seconds()))
    return claimed


def _resend_if_early(session: Session, sender: Sender, delivery_id: int) -> None:
    """A sweep or a duplicate message ahead of the backoff: come back when it is due."""
    row = session.execute(
        select(WebhookDelivery.status, WebhookDelivery.next_attempt_at).where(
            WebhookDelivery.id == delivery_id
        )
    ).one_or_none()
    if row is None or row.status != JobStatus.QUEUED.value or row.next_attempt_at is None:
        return
    wait = (row.next_attempt_at - utcnow()).total_seconds()
    if wait > 0:
        sender.resend(delivery_id, wait)


def _release(session: Session, sender: Sender, deliveries: list[ClaimedDelivery]) -> None:
    """Give claimed deliveries back unattempted, and send their messages again."""
    model = WebhookDelivery
    ids = [d.id for d in deliveries]
    session.execute(
        update(model)
        .where(model.id.in_(ids), model.lease_owner == sender.worker_id)
        .values(
            status=JobStatus.QUEUED.value,
            attempts=model.attempts - 1,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    for delivery_id in ids:
        sender.resend(delivery_id, 0.0)


def _prefetched_tasks(sender: Sender, deliveries: list[ClaimedDelivery]) -> TaskReader:
    """A task reader answering from one read of every task these deliveries name (per
    project); tasks it did not read are read on demand."""
    wanted: dict[int, set[int]] = {}
    for delivery in deliveries:
        payload = delivery.payload or {}
        project_id = payload.get("project_id")
        if project_id is None or delivery.action not in TASK_ACTIONS:
            continue
        wanted.setdefault(int(project_id), set()).update(task_ids_of(payload.get("event") or {}))
    found: dict[int, dict[str, Any]] = {}
    for project_id, task_ids in wanted.items():
        if len(task_ids) > 1:  # one task: read on demand, as without coalescing
            with suppress(PayloadUnavailable):
                for task in sender.read_tasks(project_id, sorted(task_ids), with_annotations=True):
                    found[int(task["id"])] = task

    def read(
        project_id: int, task_ids: Sequence[int], *, with_annotations: bool
    ) -> list[dict[str, Any]]:
        if task_ids and all(task_id in found for task_id in task_ids):
            tasks = [found[task_id] for task_id in task_ids]
            if with_annotations:
                return tasks
            return [{k: v for k, v in task.items() if k != "annotations"} for task in tasks]
        return sender.read_tasks(project_id, task_ids, with_annotations=with_annotations)

    return read


@dataclass(frozen=True)
class _Request:
    content: bytes
    headers: dict[str, str]


def _prepare(
    session: Session,
    sender: Sender,
    delivery: ClaimedDelivery,
    target: _Target,
    read_tasks: TaskReader,
) -> _Request | _Attempt:
    """The signed request for the delivery, or the failed attempt if its body cannot be
    built now."""
    payload: dict[str, Any] = dict(delivery.payload or {})
    try:
        body = build_body(
            session,
            action=delivery.action,
            project_id=payload.get("project_id"),
            event=dict(payload.get("event") or {}),
            send_payload=target.send_payload,
            project_payloads=sender.project_payloads,
            read_tasks=read_tasks,
        )
    except PayloadUnavailable as unavailable:
        return _failure(sender, delivery, str(unavailable), retryable=True)
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        **target.headers,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.DELIVERY_HEADER: str(delivery.id),
        signing.EVENT_HEADER: delivery.action,
        signing.EVENT_ID_HEADER: delivery.event_id,
        signing.EVENT_TIME_HEADER: f"{delivery.occurred_at.timestamp():.6f}",
        signing.ATTEMPT_HEADER: str(delivery.attempts),
    }
    if target.secret:
        headers[signing.SIGNATURE_HEADER] = signing.signature(target.secret, content)
    return _Request(content=content, headers=headers)


def _post(
    sender: Sender, delivery: ClaimedDelivery, target: _Target, request: _Request
) -> _Attempt:
    """Send the request (any thread: no session here) and judge the answer."""
    started = time.perf_counter()
    try:
        code = sender.http.post(target.url, content=request.content, headers=request.headers)
    except OutboundRefused as refused:
        result = _failure(sender, delivery, f"refused: {refused.reason}", retryable=False)
        result.outcome = "refused"
        return result
    except REQUEST_ERRORS as error:
        elapsed = _elapsed_ms(started)
        metrics.REQUEST_SECONDS.observe(elapsed / 1000)
        reason = type(error).__name__ if not str(error) else f"{type(error).__name__}: {error}"
        result = _failure(sender, delivery, reason[:500], retryable=True)
        result.latency_ms = elapsed
        return result
    elapsed = _elapsed_ms(started)
    metrics.REQUEST_SECONDS.observe(elapsed / 1000)
    if 200 <= code < 300:
        return _Attempt(
            status=JobStatus.SUCCEEDED.value,
            response_status=code,
            latency_ms=elapsed,
            outcome="succeeded",
        )
    retryable = code >= 500 or code in RETRYABLE_STATUSES
    result = _failure(sender, delivery, f"HTTP {code}", retryable=retryable)
    result.response_status = code
    result.latency_ms = elapsed
    return result


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _failure(sender: Sender, delivery: ClaimedDelivery, error: str, *, retryable: bool) -> _Attempt:
    window_ends = delivery.occurred_at + timedelta(seconds=sender.retry.window_seconds)
    more = (
        retryable
        and delivery.attempts < delivery.max_attempts
        and utcnow() + timedelta(seconds=sender.retry.delay(delivery.attempts)) < window_ends
    )
    if more:
        return _Attempt(status=JobStatus.QUEUED.value, error=error, retry=True, outcome="retried")
    return _Attempt(status=JobStatus.FAILED.value, error=error, outcome="failed")


#: An attempt's outcomes, one UPDATE for all its deliveries: one array per column, so the
#: statement is the same text whatever the number of rows (prepared and cached once).
_RECORD_OUTCOMES = text(
    """
    UPDATE webhook_deliveries AS d SET
        status = o.status,
        error = o.error,
        response_status = o.response_status,
        latency_ms = o.latency_ms,
        updated_at = :now,
        lease_owner = NULL,
        lease_expires_at = NULL,
        next_attempt_at = o.next_attempt_at,
        finished_at = COALESCE(o.finished_at, d.finished_at),
        delivered_at = COALESCE(o.delivered_at, d.delivered_at)
    FROM unnest(
        CAST(:ids AS integer[]),
        CAST(:statuses AS varchar[]),
        CAST(:errors AS text[]),
        CAST(:response_statuses AS integer[]),
        CAST(:latencies_ms AS integer[]),
        CAST(:next_attempts_at AS timestamptz[]),
        CAST(:finished_at AS timestamptz[]),
        CAST(:delivered_at AS timestamptz[])
    ) AS o(
        id, status, error, response_status, latency_ms, next_attempt_at, finished_at,
        delivered_at
    )
    WHERE d.id = o.id AND d.lease_owner = :worker AND d.status = :running
    RETURNING d.id
    """
)


def _record(session: Session, sender: Sender, done: list[tuple[ClaimedDelivery, _Attempt]]) -> None:
    """The attempts' outcomes on their rows in one UPDATE (committed by the caller).

    A row is written only while this worker still holds it; a row another worker took over
    mid-attempt (its lease expired) is left alone and its outcome marked `taken_over`. A
    retry keeps the row's finish time, a failure its delivery time (none).
    """
    if not done:
        return
    now = utcnow()
    for delivery, result in done:
        if result.retry:
            result.next_attempt_at = now + timedelta(seconds=sender.retry.delay(delivery.attempts))
    results = [result for _, result in done]
    written = set(
        session.scalars(
            _RECORD_OUTCOMES,
            {
                "ids": [delivery.id for delivery, _ in done],
                "statuses": [r.status for r in results],
                "errors": [r.error for r in results],
                "response_statuses": [r.response_status for r in results],
                "latencies_ms": [r.latency_ms for r in results],
                "next_attempts_at": [r.next_attempt_at for r in results],
                "finished_at": [None if r.retry else now for r in results],
                "delivered_at": [
                    now if r.status == JobStatus.SUCCEEDED.value else None for r in results
                ],
                "now": now,
                "worker": sender.worker_id,
                "running": JobStatus.RUNNING.value,
            },
        )
    )
    for delivery, result in done:
        if delivery.id not in written:
            logger.warning(
                "webhook delivery taken over mid-attempt", extra={"delivery": delivery.id}
            )
            result.outcome = "taken_over"
            result.next_attempt_at = None


def _after_commit(sender: Sender, delivery: ClaimedDelivery, result: _Attempt) -> None:
    """Metrics, the retry's message and the log line, once the outcome is saved."""
    if result.outcome == "taken_over":
        return
    if result.status == JobStatus.SUCCEEDED.value:
        metrics.DELIVERY_LATENCY.observe(
            max(0.0, (utcnow() - delivery.occurred_at).total_seconds())
        )
    metrics.DELIVERIES.labels(result.outcome).inc()
    if result.next_attempt_at is not None:
        sender.resend(delivery.id, max(0.0, (result.next_attempt_at - utcnow()).total_seconds()))
    # The delivery log (`/api/webhooks/{id}/deliveries`) keeps every attempt; the service's
    # log names the ones that did not succeed, and successes only at DEBUG (one a request).
    level = logging.DEBUG if result.outcome == "succeeded" else logging.INFO
    logger.log(
        level,
        "webhook delivery attempt",
        extra={
            "delivery": delivery.id,
            "webhook": delivery.webhook_id,
            "webhook_action": delivery.action,
            "attempt": delivery.attempts,
            "outcome": result.outcome,
            "response_status": result.response_status,
            "latency_ms": result.latency_ms,
        },
    )

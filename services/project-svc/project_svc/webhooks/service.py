"""Webhooks: create, read, change and delete them; turn events into deliveries.

URLs pass the outbound address policy when a webhook is saved (and again on every send,
`delivery.py`). Secrets and header values are encrypted at rest with the service's
secret key.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from cryptography.fernet import Fernet, InvalidToken
from labelops_common.db import utcnow
from labelops_common.events import Event
from labelops_common.http.errors import NotFound, ValidationFailed
from labelops_common.jobs import JobStatus
from labelops_common.outbound import OutboundPolicy, OutboundRefused
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from project_svc.projects.models import Project
from project_svc.webhooks import signing
from project_svc.webhooks.actions import ACTIONS, TEST_ACTION
from project_svc.webhooks.models import Webhook, WebhookDelivery
from project_svc.webhooks.schemas import MASK, WebhookFields

#: Label Studio's `WEBHOOK_BATCH_SIZE`: an event about more objects is sent in batches.
WEBHOOK_BATCH_SIZE = 5000
#: The delivery log serves at most this many deliveries per request.
MAX_DELIVERIES_LISTED = 500


# ------------------------------------------------------------------------ secrets at rest


def _fernet(secret_key: str) -> Fernet:
    key = hashlib.sha256(("labelops-webhook:" + secret_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _encrypt(secret_key: str, value: str) -> str:
    return _fernet(secret_key).encrypt(value.encode()).decode()


@functools.lru_cache(maxsize=4096)
def _decrypt(secret_key: str, ciphertext: str) -> str:
    """The plaintext, remembered: every delivery attempt reads its webhook's secret and
    headers, and a Fernet key derivation and decryption per attempt cost more than the
    attempt's bookkeeping. A changed value is a new ciphertext, so nothing goes stale."""
    if not ciphertext:
        return ""
    try:
        return _fernet(secret_key).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        # The secret key changed: the stored value cannot be read, so none is used.
        return ""


class EncryptedFields(Protocol):
    """A webhook's stored secrets: the row, or what a delivery attempt reads of it."""

    @property
    def headers_encrypted(self) -> str: ...

    @property
    def secret_encrypted(self) -> str: ...


def webhook_headers(webhook: EncryptedFields, *, secret_key: str) -> dict[str, str]:
    """The webhook's extra request headers, decrypted."""
    text = _decrypt(secret_key, webhook.headers_encrypted)
    headers: dict[str, str] = json.loads(text) if text else {}
    return headers


def webhook_secret(webhook: EncryptedFields, *, secret_key: str) -> str:
    return _decrypt(secret_key, webhook.secret_encrypted)


# ------------------------------------------------------------------------ CRUD


def check_url(policy: OutboundPolicy, url: str) -> None:
    try:
        policy.check_url(url)
    except OutboundRefused as refused:
        raise ValidationFailed({"url": [refused.reason]}) from None


def _check_project(session: Session, *, organization_id: int, project_id: int) -> None:
    project = session.get(Project, project_id)
    if project is None or project.organization_id != organization_id:
        raise ValidationFailed({"project": [f'Invalid pk "{project_id}" - object does not exist.']})


def _check_actions_for_scope(project_id: int | None, actions: Sequence[str]) -> None:
    if project_id is None:
        return
    org_only = [a for a in actions if ACTIONS[a].organization_only]
    if org_only:
        raise ValidationFailed(
            {"actions": [f'"{org_only[0]}" is sent to organization webhooks only.']}
        )


def _apply(
    webhook: Webhook, fields: WebhookFields, *, secret_key: str, policy: OutboundPolicy
) -> None:
    values = fields.model_dump(exclude_unset=True)
    url = values.get("url")
    if url is not None:
        check_url(policy, url)
        webhook.url = url
    for name in ("send_payload", "send_for_all_actions", "is_active"):
        if values.get(name) is not None:
            setattr(webhook, name, values[name])
    if values.get("actions") is not None:
        _check_actions_for_scope(webhook.project_id, values["actions"])
        webhook.actions = list(values["actions"])
    if "headers" in values and values["headers"] is not None:
        stored = webhook_headers(webhook, secret_key=secret_key) if webhook.id else {}
        headers = {
            name: stored.get(name, "") if value == MASK else value
            for name, value in fields.headers.items()
        }
        webhook.headers_encrypted = _encrypt(secret_key, json.dumps(headers)) if headers else ""
    if values.get("secret"):
        webhook.secret_encrypted = _encrypt(secret_key, values["secret"])


def create_webhook(
    session: Session,
    *,
    organization_id: int,
    project_id: int | None,
    created_by_id: int | None,
    fields: WebhookFields,
    secret_key: str,
    policy: OutboundPolicy,
) -> tuple[Webhook, str | None]:
    """The new webhook, and its signing secret if it was generated here (served once)."""
    if project_id is not None:
        _check_project(session, organization_id=organization_id, project_id=project_id)
    webhook = Webhook(
        organization_id=organization_id,
        project_id=project_id,
        created_by_id=created_by_id,
        send_payload=True,
        send_for_all_actions=True,
        is_active=True,
        actions=[],
        headers_encrypted="",
    )
    _apply(webhook, fields, secret_key=secret_key, policy=policy)
    generated = None
    if not fields.secret:
        generated = signing.new_secret()
        webhook.secret_encrypted = _encrypt(secret_key, generated)
    session.add(webhook)
    session.flush()
    return webhook, generated


def get_webhook(session: Session, *, webhook_id: int, organization_id: int) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or webhook.organization_id != organization_id:
        raise NotFound()
    return webhook


def list_webhooks(
    session: Session, *, organization_id: int, project_id: int | None
) -> list[Webhook]:
    """A project's webhooks, or the organization's (no project) as Label Studio lists them."""
    condition = (
        Webhook.project_id.is_(None) if project_id is None else Webhook.project_id == project_id
    )
    statement = (
        select(Webhook)
        .where(Webhook.organization_id == organization_id, condition)
        .order_by(Webhook.id)
    )
    return list(session.scalars(statement))


def update_webhook(
    session: Session,
    *,
    webhook: Webhook,
    fields: WebhookFields,
    secret_key: str,
    policy: OutboundPolicy,
) -> Webhook:
    _apply(webhook, fields, secret_key=secret_key, policy=policy)
    webhook.updated_at = utcnow()
    session.flush()
    return webhook


def delete_webhook(session: Session, *, webhook: Webhook) -> None:
    session.delete(webhook)
    session.flush()


# ------------------------------------------------------------------------ deliveries


#: `_matching_webhooks`' statement: one text for every call, so it is prepared once (it runs
#: for every project and action of every events message).
_MATCHING_WEBHOOKS = text(
    """
    SELECT id FROM webhooks
    WHERE organization_id = :organization_id
        AND is_active
        AND (project_id IS NULL OR (NOT :organization_only AND project_id = :project_id))
        AND (send_for_all_actions OR actions @> CAST(:actions AS jsonb))
    ORDER BY id
    """
)


def _matching_webhooks(
    session: Session, *, organization_id: int, project_id: int | None, action: str
) -> list[int]:
    """Label Studio's `get_active_webhooks`: the ids of the project's and the organization's
    webhooks (only the organization's for an organization-only action) that send this
    action."""
    return list(
        session.scalars(
            _MATCHING_WEBHOOKS,
            {
                "organization_id": organization_id,
                "organization_only": ACTIONS[action].organization_only,
                "project_id": project_id,
                "actions": json.dumps([action]),
            },
        )
    )


def _batches(action: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The event's payload split as Label Studio batches large instance sets (5,000 each).

    task-svc sends the ids of a few tasks, or a count and an id range for many: a range is
    cut into sub-ranges, each sent as its own request.
    """
    if action != "TASKS_CREATED" or payload.get("task_ids") is not None:
        return [payload]
    first, last = payload.get("first_task_id"), payload.get("last_task_id")
    if first is None or last is None:
        return [payload]
    batches = []
    for start in range(int(first), int(last) + 1, WEBHOOK_BATCH_SIZE):
        end = min(start + WEBHOOK_BATCH_SIZE - 1, int(last))
        batches.append({**payload, "first_task_id": start, "last_task_id": end})
    return batches


class NewDelivery(NamedTuple):
    id: int
    webhook_id: int


#: At most this many projects' organizations are remembered (`create_deliveries`).
PROJECT_ORGANIZATIONS_KEPT = 10_000


def _organization_of(session: Session, project_id: int, known: dict[int, int] | None) -> int | None:
    """The project's organization, from `known` if there (a project never changes
    organization), else read and remembered there."""
    organization_id = known.get(project_id) if known is not None else None
    if organization_id is None:
        organization_id = session.scalar(
            select(Project.organization_id).where(Project.id == project_id)
        )
        if organization_id is not None and known is not None:
            if len(known) >= PROJECT_ORGANIZATIONS_KEPT:
                known.clear()
            known[project_id] = organization_id
    return organization_id


def create_deliveries(
    session: Session,
    *,
    events: Sequence[Event],
    max_attempts: int,
    project_organizations: dict[int, int] | None = None,
) -> list[NewDelivery]:
    """One delivery per matching webhook (and batch) for each event, in event order; none
    for an event no webhook listens to. The caller enqueues them after its commit.
    `project_organizations` remembers projects' organizations across calls, for events
    that do not name it.

    Rows are written with one INSERT ... RETURNING for all the events (`_INSERT_DELIVERIES`),
    not as ORM objects: a busy project makes one per annotation, and building rows cost
    more than the insert. A project's matching webhooks are read once per action."""
    matching: dict[tuple[int, int, str], list[int]] = {}
    rows: list[tuple[int, str, str, datetime, str]] = []
    for event in events:
        if event.name not in ACTIONS:
            continue
        organization_id = event.payload.get("organization_id")
        if organization_id is None:
            organization_id = _organization_of(session, event.project_id, project_organizations)
            if organization_id is None:
                continue
        key = (int(organization_id), event.project_id, event.name)
        if key not in matching:
            matching[key] = _matching_webhooks(
                session,
                organization_id=int(organization_id),
                project_id=event.project_id,
                action=event.name,
            )
        webhook_ids = matching[key]
        if not webhook_ids:
            continue
        payloads = [
            json.dumps({"project_id": event.project_id, "event": batch})
            for batch in _batches(event.name, event.payload)
        ]
        occurred_at = datetime.fromisoformat(event.occurred_at)
        rows.extend(
            (webhook_id, event.id, event.name, occurred_at, payload)
            for webhook_id in webhook_ids
            for payload in payloads
        )
    if not rows:
        return []
    webhook_ids, event_ids, actions, occurred, payloads = (
        list(column) for column in zip(*rows, strict=True)
    )
    inserted = session.execute(
        _INSERT_DELIVERIES,
        {
            "webhook_ids": webhook_ids,
            "event_ids": event_ids,
            "actions": actions,
            "occurred_at": occurred,
            "payloads": payloads,
            "kind": "webhook",
            "queued": JobStatus.QUEUED.value,
            "max_attempts": max_attempts,
            "now": utcnow(),
        },
    )
    return [NewDelivery(id=row.id, webhook_id=row.webhook_id) for row in inserted]


#: `create_deliveries`' statement: one array per column, so its text is the same whatever the
#: number of rows (prepared once); `WITH ORDINALITY` keeps the ids in the rows' order.
_INSERT_DELIVERIES = text(
    """
    INSERT INTO webhook_deliveries (
        kind, status, payload, progress, attempts, max_attempts, created_at, updated_at,
        webhook_id, event_id, action, occurred_at
    )
    SELECT :kind, :queued, r.payload, 0, 0, :max_attempts, :now, :now,
        r.webhook_id, r.event_id, r.action, r.occurred_at
    FROM unnest(
        CAST(:webhook_ids AS integer[]),
        CAST(:event_ids AS varchar[]),
        CAST(:actions AS varchar[]),
        CAST(:occurred_at AS timestamptz[]),
        CAST(:payloads AS jsonb[])
    ) WITH ORDINALITY AS r(webhook_id, event_id, action, occurred_at, payload, position)
    ORDER BY r.position
    RETURNING id, webhook_id
    """
)


def list_deliveries(
    session: Session, *, webhook: Webhook, limit: int, status: str | None = None
) -> list[WebhookDelivery]:
    statement = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    if status:
        statement = statement.where(WebhookDelivery.status == status)
    statement = statement.order_by(WebhookDelivery.id.desc()).limit(
        max(1, min(limit, MAX_DELIVERIES_LISTED))
    )
    return list(session.scalars(statement))


def get_delivery(session: Session, *, webhook: Webhook, delivery_id: int) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFound()
    return delivery


def redeliver(session: Session, *, delivery: WebhookDelivery, max_attempts: int) -> WebhookDelivery:
    """A new delivery of the same event (the log keeps the original)."""
    again = WebhookDelivery(
        kind="webhook",
        webhook_id=delivery.webhook_id,
        event_id=delivery.event_id,
        action=delivery.action,
        occurred_at=delivery.occurred_at,
        payload=dict(delivery.payload or {}),
        max_attempts=max_attempts,
        redelivery_of_id=delivery.id,
    )
    session.add(again)
    session.flush()
    return again


def create_test_delivery(
    session: Session, *, webhook: Webhook, event_id: str, max_attempts: int
) -> WebhookDelivery:
    """A `WEBHOOK_TEST` delivery, to check the receiver from the web app."""
    delivery = WebhookDelivery(
        kind="webhook",
        webhook_id=webhook.id,
        event_id=event_id,
        action=TEST_ACTION,
        occurred_at=utcnow(),
        payload={"project_id": webhook.project_id, "event": {}},
        max_attempts=max_attempts,
    )
    session.add(delivery)
    session.flush()
    return delivery

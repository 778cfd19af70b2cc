"""Request and response shapes of `/api/webhooks`, with Label Studio's field names.

Header values and the signing secret are write-only: a webhook is served with its header
names and every value masked, and a masked value sent back keeps the stored one, so a
client may GET, edit and PUT a webhook without ever holding its credentials.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from labelops_common.http.answers import Timestamp, timestamp
from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator

from project_svc.webhooks.actions import ACTIONS
from project_svc.webhooks.models import Webhook, WebhookDelivery

#: What a stored header value is served as.
MASK = "********"
MAX_HEADERS = 50
MAX_HEADER_VALUE = 4096
MIN_SECRET_LENGTH = 16
#: RFC 9110 token characters: a header name with anything else is refused.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$")
#: Headers the server sets itself on every request; a webhook may not override them.
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "connection"}
)
RESERVED_PREFIX = "x-labelops-"


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise ValueError("This field may not be blank.")
    if not re.match(r"^https?://[^\s/?#]+", value, re.IGNORECASE):
        raise ValueError("Enter a valid URL (http:// or https://).")
    return value


def _check_actions(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    unknown = [action for action in value if action not in ACTIONS]
    if unknown:
        raise ValueError(f'"{unknown[0]}" is not a valid choice.')
    return list(dict.fromkeys(value))


def _check_headers(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("Must be a JSON object of header names to values.")
    if len(value) > MAX_HEADERS:
        raise ValueError(f"At most {MAX_HEADERS} headers.")
    checked: dict[str, str] = {}
    for name, header_value in value.items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f'"{name}" is not a valid header name.')
        lowered = name.lower()
        if lowered in RESERVED_HEADERS or lowered.startswith(RESERVED_PREFIX):
            raise ValueError(f'"{name}" is set by the server and cannot be changed.')
        if not isinstance(header_value, str | int | float) or isinstance(header_value, bool):
            raise ValueError(f'The value of "{name}" must be a string.')
        text = str(header_value)
        if len(text) > MAX_HEADER_VALUE or "\r" in text or "\n" in text or "\0" in text:
            raise ValueError(f'The value of "{name}" is not a valid header value.')
        checked[name] = text
    return checked


class WebhookFields(BaseModel):
    """The writable fields; all optional here (PATCH), `url` required on create and PUT."""

    model_config = ConfigDict(extra="ignore")

    url: str | None = Field(default=None, max_length=2048)
    send_payload: bool | None = None
    send_for_all_actions: bool | None = None
    headers: Any = None
    is_active: bool | None = None
    actions: list[str] | None = None
    #: The HMAC-SHA256 signing secret (write-only); generated when a webhook is created
    #: without one.
    secret: str | None = Field(default=None, min_length=MIN_SECRET_LENGTH, max_length=256)

    _url = field_validator("url")(_check_url)
    _actions = field_validator("actions")(_check_actions)
    _headers = field_validator("headers")(_check_headers)


class WebhookCreate(WebhookFields):
    url: str = Field(max_length=2048)
    project: int | None = None


class WebhookReplace(WebhookFields):
    """PUT: `url` is required; `project` cannot change (Label Studio's update serializer)."""

    url: str = Field(max_length=2048)


class WebhookAnswer(BaseModel):
    id: int
    organization: int
    project: int | None
    url: str
    send_payload: bool
    send_for_all_actions: bool
    #: Header names with their values masked.
    headers: dict[str, str]
    is_active: bool
    actions: list[str]
    created_at: Timestamp
    updated_at: Timestamp


class WebhookCreatedAnswer(WebhookAnswer):
    #: The signing secret, served once: only when the server generated it on create.
    secret: str | None = None


def webhook_answer(webhook: Webhook, *, header_names: list[str]) -> WebhookAnswer:
    return WebhookAnswer(
        id=webhook.id,
        organization=webhook.organization_id,
        project=webhook.project_id,
        url=webhook.url,
        send_payload=webhook.send_payload,
        send_for_all_actions=webhook.send_for_all_actions,
        headers=dict.fromkeys(header_names, MASK),
        is_active=webhook.is_active,
        actions=[] if webhook.send_for_all_actions else list(webhook.actions or []),
        created_at=timestamp(webhook.created_at) or "",
        updated_at=timestamp(webhook.updated_at) or "",
    )


class ActionInfo(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str
    description: str
    key: str
    organization_only: bool = Field(
        alias="organization-only", serialization_alias="organization-only"
    )


class ActionsInfoAnswer(RootModel[dict[str, ActionInfo]]):
    """`{ACTION: {name, description, key, organization-only}}`."""


DeliveryStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class DeliveryAnswer(BaseModel):
    id: int
    webhook: int
    event_id: str
    action: str
    status: DeliveryStatus
    attempts: int
    max_attempts: int
    #: Why the last attempt failed (status code or connection error); null once delivered.
    last_error: str | None
    #: The receiver's HTTP status on the last attempt.
    response_status: int | None
    #: How long the last attempt's request took, in milliseconds.
    latency_ms: int | None
    occurred_at: Timestamp
    created_at: Timestamp
    delivered_at: Timestamp | None
    next_attempt_at: Timestamp | None
    redelivery_of: int | None


def delivery_answer(delivery: WebhookDelivery) -> DeliveryAnswer:
    def when(value: datetime | None) -> str | None:
        return timestamp(value)

    return DeliveryAnswer(
        id=delivery.id,
        webhook=delivery.webhook_id,
        event_id=delivery.event_id,
        action=delivery.action,
        status=delivery.status,
        attempts=delivery.attempts,
        max_attempts=delivery.max_attempts,
        last_error=delivery.error,
        response_status=delivery.response_status,
        latency_ms=delivery.latency_ms,
        occurred_at=when(delivery.occurred_at) or "",
        created_at=when(delivery.created_at) or "",
        delivered_at=when(delivery.delivered_at),
        next_attempt_at=when(delivery.next_attempt_at),
        redelivery_of=delivery.redelivery_of_id,
    )

"""Webhooks, their deliveries, and the events project-svc has turned into deliveries."""

from __future__ import annotations

from datetime import datetime

from labelops_common.db import json_type, utcnow
from labelops_common.events import ProcessedEventMixin
from labelops_common.jobs import JobRecordMixin
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from project_svc.db import Base


class Webhook(Base):
    """A URL called on events of one project, or of every project when `project_id` is null.

    The signing secret and the extra request headers may hold credentials: both are stored
    encrypted with the service's secret key and never served back.
    """

    __tablename__ = "webhooks"
    __table_args__ = (Index("ix_webhooks_org_project", "organization_id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    send_payload: Mapped[bool] = mapped_column(default=True)
    send_for_all_actions: Mapped[bool] = mapped_column(default=True)
    #: The actions sent when not `send_for_all_actions`.
    actions: Mapped[list[str]] = mapped_column(json_type(), default=list)
    #: Fernet ciphertext of the JSON object of extra request headers.
    headers_encrypted: Mapped[str] = mapped_column(Text, default="")
    #: Fernet ciphertext of the HMAC-SHA256 signing secret.
    secret_encrypted: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookDelivery(JobRecordMixin, Base):
    """One event (or one batch of a large event) sent to one webhook: a job row.

    `status` is the job's (queued → running → succeeded / failed / cancelled); a failed
    attempt with attempts and time left goes back to queued with `next_attempt_at`.
    `payload` holds what the body is built from (the event's ids), not the body.
    """

    __tablename__ = "webhook_deliveries"

    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    #: The event id (a redelivery keeps it, so receivers can recognise a repeat).
    event_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True, default=None)
    response_status: Mapped[int | None] = mapped_column(nullable=True, default=None)
    #: Duration of the last attempt's request, in milliseconds.
    latency_ms: Mapped[int | None] = mapped_column(nullable=True, default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True, default=None)
    redelivery_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="SET NULL"), nullable=True, default=None
    )


#: The delivery log reads a webhook's deliveries newest first.
Index("ix_webhook_deliveries_webhook_id_id", WebhookDelivery.webhook_id, WebhookDelivery.id)


class ProcessedEvent(ProcessedEventMixin, Base):
    """Events whose deliveries project-svc has created (a redelivered event creates none)."""

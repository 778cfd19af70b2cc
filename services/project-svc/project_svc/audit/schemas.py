"""Request parsing and answer shapes of `/api/audit-logs/`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from labelops_common.http.answers import Timestamp, timestamp
from labelops_common.http.errors import ValidationFailed
from pydantic import BaseModel


class AuditEntryAnswer(BaseModel):
    #: Unique within `service`.
    id: int
    #: Which service recorded it.
    service: str
    organization: int
    actor: int | None
    actor_email: str
    action: str
    object_type: str
    object_id: str
    project: int | None
    changes: dict[str, Any]
    request_id: str | None
    client_ip: str | None
    created_at: Timestamp


class AuditLogPage(BaseModel):
    """Newest first; `next` is the URL of the following page (null on the last)."""

    next: str | None
    results: list[AuditEntryAnswer]


def entry_answer(row: dict[str, Any]) -> AuditEntryAnswer:
    return AuditEntryAnswer(
        id=row["id"],
        service=row["service"],
        organization=row["organization_id"],
        actor=row["actor_id"],
        actor_email=row["actor_email"] or "",
        action=row["action"],
        object_type=row["object_type"],
        object_id=row["object_id"],
        project=row["project_id"],
        changes=row["changes"] or {},
        request_id=row["request_id"],
        client_ip=row["client_ip"],
        created_at=timestamp(row["created_at"]) or "",
    )


def parse_moment(value: str | None, *, field: str) -> datetime | None:
    """An ISO 8601 date or date-time (a trailing Z allowed); naive means UTC."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            {field: [f'"{value}" is not an ISO 8601 date-time (e.g. 2026-12-05T20:00:00Z).']}
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

"""`record_audit`: the one call a change makes to leave its audit entry.

It adds the entry to the caller's session, so the entry commits with the change or not at
all: a request that fails after it (a 4xx raised later, a rollback) leaves nothing behind.
The request's id and client address come from the session (`bind_request_origin`, done
by the shared session dependency for every request).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from sqlalchemy import BigInteger, DateTime, String, column, insert, table
from sqlalchemy.orm import Session

from labelops_common.audit.changes import mask_secrets
from labelops_common.audit.models import AUDIT_ENTRIES_TABLE
from labelops_common.db import json_type, utcnow

#: The table as every service's database has it, without any service's `Base`.
audit_entries = table(
    AUDIT_ENTRIES_TABLE,
    column("id", BigInteger),
    column("organization_id", BigInteger),
    column("actor_id", BigInteger),
    column("actor_email", String),
    column("action", String),
    column("object_type", String),
    column("object_id", String),
    column("project_id", BigInteger),
    column("changes", json_type()),
    column("request_id", String),
    column("client_ip", String),
    column("created_at", DateTime(timezone=True)),
)

_ORIGIN_KEY = "labelops_audit_origin"


@dataclass(frozen=True)
class RequestOrigin:
    request_id: str | None = None
    client_ip: str | None = None


def bind_request_origin(session: Session, origin: RequestOrigin) -> None:
    """Entries recorded in this session carry the request's id and client address."""
    session.info[_ORIGIN_KEY] = origin


class AuditActor(Protocol):
    """Who changed something: a request's `Principal`, or an `Actor` a job rebuilt from
    the ids its message carried."""

    @property
    def user_id(self) -> int: ...
    @property
    def organization_id(self) -> int: ...
    @property
    def email(self) -> str: ...


@dataclass(frozen=True)
class Actor:
    """The person a job acts for (a queued import, a sync someone started)."""

    user_id: int
    organization_id: int
    email: str = ""


class AuditObject(NamedTuple):
    """What an entry is about: its type (`project`, `task`, …) and its id."""

    type: str
    id: int | str


def record_audit(
    session: Session,
    principal: AuditActor | None,
    action: str,
    obj: AuditObject | tuple[str, int | str],
    *,
    project_id: int | None = None,
    changes: dict[str, Any] | None = None,
    organization_id: int | None = None,
) -> None:
    """Add an entry for `action` (`<object type>.<verb>`, e.g. `project.updated`) done by
    `principal` on `obj`, in the caller's transaction.

    `changes` is a summary built with `labelops_common.audit.changes`; it is masked again
    here, whatever it holds. A change made by no one (a scheduled job) passes no principal
    and the organization it belongs to.
    """
    object_type, object_id = obj
    organization = organization_id if organization_id is not None else None
    if organization is None:
        if principal is None:
            raise ValueError("an audit entry needs a principal or an organization id")
        organization = principal.organization_id
    origin: RequestOrigin = session.info.get(_ORIGIN_KEY) or RequestOrigin()
    session.execute(
        insert(audit_entries).values(
            organization_id=organization,
            actor_id=principal.user_id if principal is not None else None,
            actor_email=(principal.email if principal is not None else "")[:254],
            action=action[:64],
            object_type=object_type[:64],
            object_id=str(object_id)[:64],
            project_id=project_id,
            changes=mask_secrets(changes or {}),
            request_id=(origin.request_id or None) and origin.request_id[:64],
            client_ip=origin.client_ip,
            created_at=utcnow(),
        )
    )

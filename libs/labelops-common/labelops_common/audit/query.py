"""Reading a service's audit entries (newest first, keyset-paginated) and forgetting old
ones (retention)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from labelops_common.audit.record import audit_entries
from labelops_common.db import utcnow

#: Rows one retention statement deletes; the sweep repeats until none is left.
PURGE_BATCH_SIZE = 10_000


@dataclass(frozen=True)
class AuditFilter:
    organization_id: int
    actor_id: int | None = None
    project_id: int | None = None
    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True)
class Before:
    """Where a page starts: entries strictly before `created_at` (and, at `created_at`
    itself, those with an id below `id` when `id` is set, all of them when `same_time`)."""

    created_at: datetime
    id: int | None = None
    same_time: bool = False


def list_audit_entries(
    session: Session, *, where: AuditFilter, before: Before | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """One page of entries, newest first; rows as dicts of the table's columns."""
    t = audit_entries.c
    statement = select(audit_entries).where(t.organization_id == where.organization_id)
    if where.actor_id is not None:
        statement = statement.where(t.actor_id == where.actor_id)
    if where.project_id is not None:
        statement = statement.where(t.project_id == where.project_id)
    if where.object_type:
        statement = statement.where(t.object_type == where.object_type)
    if where.object_id:
        statement = statement.where(t.object_id == where.object_id)
    if where.action:
        statement = statement.where(t.action == where.action)
    if where.created_from is not None:
        statement = statement.where(t.created_at >= where.created_from)
    if where.created_to is not None:
        statement = statement.where(t.created_at <= where.created_to)
    if before is not None:
        at_same_time: Any
        if before.id is not None:
            at_same_time = and_(t.created_at == before.created_at, t.id < before.id)
        elif before.same_time:
            at_same_time = t.created_at == before.created_at
        else:
            at_same_time = None
        older = t.created_at < before.created_at
        statement = statement.where(or_(older, at_same_time) if at_same_time is not None else older)
    statement = statement.order_by(t.created_at.desc(), t.id.desc()).limit(limit)
    return [dict(row) for row in session.execute(statement).mappings()]


def purge_audit_entries(
    session: Session, *, older_than: timedelta, batch_size: int = PURGE_BATCH_SIZE
) -> int:
    """Delete one batch of entries older than `older_than` (set-based, by the
    `created_at` index); returns how many went. The caller commits and repeats."""
    t = audit_entries.c
    cutoff = utcnow() - older_than
    oldest = select(t.id).where(t.created_at < cutoff).limit(batch_size).scalar_subquery()
    result = session.execute(delete(audit_entries).where(t.id.in_(oldest)))
    return int(getattr(result, "rowcount", 0) or 0)

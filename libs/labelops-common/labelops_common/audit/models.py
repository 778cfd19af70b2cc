"""The `audit_entries` table every service declares on its own database.

A service writes its entries in the transaction of the change they describe (so a change
that rolls back leaves none), and serves them to project-svc over gRPC (`AuditLog`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from labelops_common.db import json_type, utcnow

AUDIT_ENTRIES_TABLE = "audit_entries"


class AuditEntryMixin:
    """Who did what to which object; a service declares
    `class AuditEntry(AuditEntryMixin, Base)` and migrates it.

    The actor's email is the one at the time of the change (users change emails and are
    deleted; the log must still say who it was). `changes` is a bounded summary that never
    holds a secret (`labelops_common.audit.changes`).
    """

    __tablename__ = AUDIT_ENTRIES_TABLE

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(BigInteger)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[int | None] = mapped_column(BigInteger)
    changes: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            # The log of an organization, newest first (every query starts here).
            Index("ix_audit_entries_org_created", "organization_id", "created_at", "id"),
            # Retention deletes by age across organizations.
            Index("ix_audit_entries_created", "created_at"),
            # "What happened to this object" and "what happened in this project".
            Index("ix_audit_entries_object", "object_type", "object_id"),
            Index("ix_audit_entries_project", "project_id", "created_at"),
            # "What did this person do", "every deletion": filters of the log's readers.
            Index("ix_audit_entries_actor", "organization_id", "actor_id", "created_at"),
            Index("ix_audit_entries_action", "organization_id", "action", "created_at"),
        )

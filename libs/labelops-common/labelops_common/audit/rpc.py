"""`AuditLog` over gRPC: every service serves its own entries; project-svc merges them.

Protobuf stays here, at the edge: the servicer turns a request into an `AuditFilter` and
rows into messages, `entry_from_message` turns them back into the dicts the merge uses.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import grpc
from labelops.audit.v1 import audit_pb2, audit_pb2_grpc

from labelops_common.audit.query import AuditFilter, Before, list_audit_entries
from labelops_common.db import Database

AUDIT_LOG_SERVICE_NAME = "labelops.audit.v1.AuditLog"
#: At most this many entries per call.
MAX_LIMIT = 1000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_microseconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_microseconds(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1_000_000, tz=UTC).replace(microsecond=value % 1_000_000)


def filter_from_request(request: audit_pb2.ListAuditEntriesRequest) -> AuditFilter:
    return AuditFilter(
        organization_id=request.organization_id,
        actor_id=request.actor_id or None,
        project_id=request.project_id or None,
        object_type=request.object_type or None,
        object_id=request.object_id or None,
        action=request.action or None,
        created_from=from_microseconds(request.created_from_us)
        if request.created_from_us
        else None,
        created_to=from_microseconds(request.created_to_us) if request.created_to_us else None,
    )


def request_for(
    where: AuditFilter, *, before: Before | None, limit: int
) -> audit_pb2.ListAuditEntriesRequest:
    return audit_pb2.ListAuditEntriesRequest(
        organization_id=where.organization_id,
        actor_id=where.actor_id or 0,
        project_id=where.project_id or 0,
        object_type=where.object_type or "",
        object_id=where.object_id or "",
        action=where.action or "",
        created_from_us=to_microseconds(where.created_from) if where.created_from else 0,
        created_to_us=to_microseconds(where.created_to) if where.created_to else 0,
        before_us=to_microseconds(before.created_at) if before else 0,
        before_id=(before.id or 0) if before else 0,
        include_before_us=before.same_time if before else False,
        limit=limit,
    )


def entry_message(row: dict[str, Any]) -> audit_pb2.AuditEntry:
    return audit_pb2.AuditEntry(
        id=row["id"],
        organization_id=row["organization_id"],
        actor_id=row["actor_id"] or 0,
        actor_email=row["actor_email"] or "",
        action=row["action"],
        object_type=row["object_type"],
        object_id=row["object_id"],
        project_id=row["project_id"] or 0,
        changes_json=json.dumps(row["changes"] or {}, default=str),
        request_id=row["request_id"] or "",
        client_ip=row["client_ip"] or "",
        created_us=to_microseconds(row["created_at"]),
    )


def entry_from_message(message: audit_pb2.AuditEntry) -> dict[str, Any]:
    return {
        "id": message.id,
        "organization_id": message.organization_id,
        "actor_id": message.actor_id or None,
        "actor_email": message.actor_email,
        "action": message.action,
        "object_type": message.object_type,
        "object_id": message.object_id,
        "project_id": message.project_id or None,
        "changes": json.loads(message.changes_json or "{}"),
        "request_id": message.request_id or None,
        "client_ip": message.client_ip or None,
        "created_at": from_microseconds(message.created_us),
    }


class AuditLogServicer(audit_pb2_grpc.AuditLogServicer):
    def __init__(self, database: Database) -> None:
        self.database = database

    def ListAuditEntries(
        self, request: audit_pb2.ListAuditEntriesRequest, context: grpc.ServicerContext
    ) -> audit_pb2.ListAuditEntriesResponse:
        before = None
        if request.before_us:
            before = Before(
                created_at=from_microseconds(request.before_us),
                id=request.before_id or None,
                same_time=request.include_before_us,
            )
        limit = min(max(request.limit, 1), MAX_LIMIT)
        with self.database.session() as session:
            rows = list_audit_entries(
                session, where=filter_from_request(request), before=before, limit=limit
            )
        return audit_pb2.ListAuditEntriesResponse(entries=[entry_message(row) for row in rows])


def register_audit_log(database: Database) -> Callable[[grpc.Server], None]:
    """A service's `grpc_registrations` entry serving its audit entries."""

    def register(server: grpc.Server) -> None:
        audit_pb2_grpc.add_AuditLogServicer_to_server(AuditLogServicer(database), server)

    return register

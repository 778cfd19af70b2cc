"""The other services' audit entries, asked for over gRPC (`AuditLog.ListAuditEntries`)."""

from __future__ import annotations

from typing import Any

import grpc
from labelops.audit.v1 import audit_pb2_grpc
from labelops_common.audit import AuditFilter, Before
from labelops_common.audit.rpc import entry_from_message, request_for
from labelops_common.grpcutil import peer_error, peer_stub
from labelops_common.settings import CommonSettings

from project_svc.audit.service import PeerLister

#: Every service but this one keeps its own audit entries.
AUDITED_PEERS = ("task-svc", "storage-sync", "export-svc", "ml-gateway")


def peer_listers(common: CommonSettings) -> dict[str, PeerLister]:
    """A lister per peer; a peer that does not answer fails the whole read (a log with a
    service silently missing would mislead), as a 503."""

    def lister_for(name: str) -> PeerLister:
        def list_entries(
            where: AuditFilter, before: Before | None, limit: int
        ) -> list[dict[str, Any]]:
            stub = peer_stub(
                audit_pb2_grpc.AuditLogStub,
                target=common.peer_address(name),
                deadline_seconds=common.grpc_deadline_seconds,
            )
            try:
                answer = stub.ListAuditEntries(request_for(where, before=before, limit=limit))
            except grpc.RpcError as error:
                raise peer_error(name, error) from error
            return [entry_from_message(message) for message in answer.entries]

        return list_entries

    return {name: lister_for(name) for name in AUDITED_PEERS}

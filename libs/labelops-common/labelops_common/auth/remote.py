"""Legacy-token resolution for services other than project-svc: its gRPC, cached briefly."""

from __future__ import annotations

import grpc
from labelops.project.v1 import project_pb2, project_pb2_grpc

from labelops_common.auth.authenticate import CachedTokenResolver, LegacyTokenResolver
from labelops_common.auth.principal import Principal, Role
from labelops_common.grpcutil import peer_error, peer_stub
from labelops_common.http.errors import ServiceUnavailable
from labelops_common.settings import CommonSettings


def remote_legacy_token_resolver(common: CommonSettings) -> LegacyTokenResolver:
    def resolve(token: str) -> Principal | None:
        stub = peer_stub(
            project_pb2_grpc.ProjectServiceStub,
            target=common.peer_address("project-svc"),
            deadline_seconds=common.grpc_deadline_seconds,
        )
        try:
            answer = stub.AuthenticateToken(project_pb2.AuthenticateTokenRequest(token=token))
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.NOT_FOUND):
                return None
            raise ServiceUnavailable() from peer_error("project-svc", exc)
        return Principal(
            user_id=answer.user_id,
            organization_id=answer.organization_id,
            role=Role(answer.role),
            email=answer.email,
            username=answer.username,
        )

    return CachedTokenResolver(resolve, ttl_seconds=common.token_cache_seconds)

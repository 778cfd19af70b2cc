"""Who may be assigned work in a project: project-svc's answer over gRPC.

task-svc keeps no users; `CheckProjectAccess` says whether a person may annotate in the
project (a member of its organization, admitted to it unless a manager or above) and
their role, which decides whether they may review.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from labelops.project.v1 import project_pb2, project_pb2_grpc
from labelops_common.grpcutil import peer_error, peer_stub
from labelops_common.settings import CommonSettings

#: role by user id; None for a person who may not work in the project.
MemberRoles = dict[int, str | None]


def member_roles(
    common: CommonSettings, *, project_id: int, user_ids: Iterable[int]
) -> MemberRoles:
    """Each user's role in the project, or None; raises PeerError when project-svc is down."""
    stub = peer_stub(
        project_pb2_grpc.ProjectServiceStub,
        target=common.peer_address("project-svc"),
        deadline_seconds=common.grpc_deadline_seconds,
    )
    roles: MemberRoles = {}
    for user_id in sorted(set(user_ids)):
        try:
            answer = stub.CheckProjectAccess(
                project_pb2.CheckProjectAccessRequest(
                    user_id=user_id, project_id=project_id, action="annotate"
                )
            )
        except grpc.RpcError as exc:
            raise peer_error("project-svc", exc) from None
        roles[user_id] = answer.role if answer.allowed else None
    return roles

"""project-svc's gRPC face (`ProjectService`) and its client of task-svc's counters."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

import grpc
from labelops.project.v1 import project_pb2, project_pb2_grpc
from labelops.task.v1 import task_pb2, task_pb2_grpc
from labelops_common.db import Database
from labelops_common.grpcutil import abort, peer_error, peer_stub
from labelops_common.http.errors import NotFound
from labelops_common.settings import CommonSettings
from sqlalchemy import select

from project_svc.members import service as members
from project_svc.organizations import service as organizations
from project_svc.organizations.models import Membership
from project_svc.projects import policies
from project_svc.projects.counts import CountsFetcher
from project_svc.projects.models import Project
from project_svc.projects.service import UsesInProject
from project_svc.tokens import service as tokens
from project_svc.users.models import User
from project_svc.users.schemas import initials

logger = logging.getLogger(__name__)


class ProjectServicer(project_pb2_grpc.ProjectServiceServicer):
    def __init__(self, database: Database, *, secret: str) -> None:
        self.database = database
        self.secret = secret

    def GetProject(
        self, request: project_pb2.GetProjectRequest, context: grpc.ServicerContext
    ) -> project_pb2.Project:
        with self.database.session() as session:
            project = session.get(Project, request.project_id)
            if project is None or (
                request.organization_id and project.organization_id != request.organization_id
            ):
                abort(context, grpc.StatusCode.NOT_FOUND, "project not found")
            return project_pb2.Project(
                id=project.id,
                organization_id=project.organization_id,
                title=project.title,
                label_config=project.label_config,
                parsed_label_config_json=json.dumps(project.parsed_label_config).encode(),
                maximum_annotations=project.maximum_annotations,
                sampling=project.sampling,
                skip_queue=project.skip_queue,
                show_collab_predictions=project.show_collab_predictions,
                model_version=project.model_version,
                created_at_unix=int(project.created_at.timestamp()),
                min_annotations_to_start_training=project.min_annotations_to_start_training,
                member_user_ids=members.member_ids(session, project_id=project.id),
                annotators_see_others_annotations=project.annotators_see_others_annotations,
                label_stream_task_distribution=project.label_stream_task_distribution,
                max_tasks_per_person=project.max_tasks_per_person or 0,
                reservation_timeout_seconds=project.reservation_timeout_seconds or 0,
                overlap_cohort_percentage=project.overlap_cohort_percentage,
                agreement_threshold=project.agreement_threshold,
                agreement_iou_threshold=project.agreement_iou_threshold,
            )

    def AuthenticateToken(
        self, request: project_pb2.AuthenticateTokenRequest, context: grpc.ServicerContext
    ) -> project_pb2.Principal:
        with self.database.session() as session:
            principal = tokens.resolve_token(session, token=request.token, secret=self.secret)
        if principal is None:
            abort(context, grpc.StatusCode.UNAUTHENTICATED, "invalid token")
        return project_pb2.Principal(
            user_id=principal.user_id,
            organization_id=principal.organization_id,
            email=principal.email,
            username=principal.username,
            role=principal.role.value,
            is_active=True,
        )

    def GetUsers(
        self, request: project_pb2.GetUsersRequest, context: grpc.ServicerContext
    ) -> project_pb2.GetUsersResponse:
        with self.database.session() as session:
            members = session.scalars(
                select(User)
                .join(Membership, Membership.user_id == User.id)
                .where(
                    Membership.organization_id == request.organization_id,
                    User.id.in_(list(request.user_ids)),
                )
            )
            return project_pb2.GetUsersResponse(
                users=[
                    project_pb2.User(
                        id=user.id,
                        email=user.email,
                        username=user.username,
                        first_name=user.first_name,
                        last_name=user.last_name,
                        initials=initials(user),
                    )
                    for user in members
                ]
            )

    def CheckProjectAccess(
        self, request: project_pb2.CheckProjectAccessRequest, context: grpc.ServicerContext
    ) -> project_pb2.CheckProjectAccessResponse:
        with self.database.session() as session:
            user = session.get(User, request.user_id)
            project = session.get(Project, request.project_id)
            principal = organizations.principal_for(session, user=user) if user else None
            is_member = project is not None and members.is_member(
                session, project_id=project.id, user_id=request.user_id
            )
        if principal is None or project is None:
            return project_pb2.CheckProjectAccessResponse(allowed=False)
        allowed = policies.can_perform(
            principal, project.organization_id, request.action, is_member=is_member
        )
        return project_pb2.CheckProjectAccessResponse(allowed=allowed, role=principal.role.value)


def register_project_service(
    *, database: Database, common: CommonSettings
) -> Callable[[grpc.Server], None]:
    def register(server: grpc.Server) -> None:
        project_pb2_grpc.add_ProjectServiceServicer_to_server(
            ProjectServicer(database, secret=common.resolved_secret_key()), server
        )

    return register


def task_counts_fetcher(common: CommonSettings) -> CountsFetcher:
    """Counters for a page of projects in one call; if task-svc is down they read as null."""

    def fetch(project_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        if not project_ids:
            return {}
        stub = peer_stub(
            task_pb2_grpc.TaskServiceStub,
            target=common.peer_address("task-svc"),
            deadline_seconds=common.grpc_deadline_seconds,
        )
        try:
            response = stub.GetProjectCounts(
                task_pb2.GetProjectCountsRequest(project_ids=list(project_ids))
            )
        except grpc.RpcError as exc:
            logger.warning("task-svc counters unavailable", extra={"grpc_code": str(exc.code())})
            return {}
        result: dict[int, dict[str, int]] = {}
        for counts in response.counts:
            values = {
                field.name: int(value)
                for field, value in counts.ListFields()
                if field.name != "project_id"
            }
            result[counts.project_id] = {
                name: values.get(name, 0)
                for name in task_pb2.ProjectCounts.DESCRIPTOR.fields_by_name
                if name != "project_id"
            }
        return result

    return fetch


def project_tasks_deleter(common: CommonSettings) -> Callable[[int], int]:
    """Deletes a project's tasks in task-svc; raises PeerError if it cannot."""

    def delete(project_id: int) -> int:
        stub = peer_stub(
            task_pb2_grpc.TaskServiceStub,
            target=common.peer_address("task-svc"),
            deadline_seconds=max(common.grpc_deadline_seconds, 120.0),
        )
        try:
            answer = stub.DeleteProjectTasks(
                task_pb2.DeleteProjectTasksRequest(project_id=project_id)
            )
        except grpc.RpcError as exc:
            raise peer_error("task-svc", exc) from None
        return int(answer.deleted)

    return delete


class OverlapSetter(Protocol):
    def __call__(
        self,
        project_id: int,
        maximum_annotations: int,
        skip_queue: str,
        *,
        overlap_cohort_percentage: int = 100,
        agreement_threshold: float | None = None,
    ) -> None: ...


def project_overlap_setter(common: CommonSettings) -> OverlapSetter:
    """Tells task-svc a project's overlap or agreement rules changed; raises PeerError if
    it cannot."""

    def set_overlap(
        project_id: int,
        maximum_annotations: int,
        skip_queue: str,
        *,
        overlap_cohort_percentage: int = 100,
        agreement_threshold: float | None = None,
    ) -> None:
        stub = peer_stub(
            task_pb2_grpc.TaskServiceStub,
            target=common.peer_address("task-svc"),
            deadline_seconds=max(common.grpc_deadline_seconds, 120.0),
        )
        try:
            stub.SetProjectOverlap(
                task_pb2.SetProjectOverlapRequest(
                    project_id=project_id,
                    maximum_annotations=maximum_annotations,
                    skip_queue=skip_queue,
                    overlap_cohort_percentage=overlap_cohort_percentage,
                    agreement_threshold=agreement_threshold,
                )
            )
        except grpc.RpcError as exc:
            raise peer_error("task-svc", exc) from None

    return set_overlap


UsesFetcher = Callable[[int], UsesInProject]
#: (project id, label value as JSON) pairs → annotation counts, or None if task-svc is down.
LabelUseCounter = Callable[[Sequence[tuple[int, str]]], list[int] | None]


def labels_in_use_fetcher(common: CommonSettings) -> UsesFetcher:
    """Asks task-svc what a project's annotations use; raises PeerError if it cannot (a
    config change is then refused, rather than let through unchecked)."""

    def fetch(project_id: int) -> UsesInProject:
        stub = peer_stub(
            task_pb2_grpc.TaskServiceStub,
            target=common.peer_address("task-svc"),
            deadline_seconds=max(common.grpc_deadline_seconds, 60.0),
        )
        try:
            answer = stub.GetLabelsInUse(task_pb2.GetLabelsInUseRequest(project_id=project_id))
        except grpc.RpcError as exc:
            raise peer_error("task-svc", exc) from None
        return UsesInProject(
            controls={
                (c.from_name, c.to_name, c.type): int(c.annotation_count) for c in answer.controls
            },
            labels={
                (label.from_name, label.label): (
                    int(label.annotation_count),
                    int(label.draft_count),
                )
                for label in answer.labels
            },
        )

    return fetch


def label_use_counter(common: CommonSettings) -> LabelUseCounter:
    """Label links' `annotations_count`; None when task-svc cannot answer (read as null)."""

    def count(uses: Sequence[tuple[int, str]]) -> list[int] | None:
        if not uses:
            return []
        stub = peer_stub(
            task_pb2_grpc.TaskServiceStub,
            target=common.peer_address("task-svc"),
            deadline_seconds=common.grpc_deadline_seconds,
        )
        try:
            answer = stub.CountLabelUses(
                task_pb2.CountLabelUsesRequest(
                    uses=[
                        task_pb2.LabelUse(project_id=project_id, value_json=value_json)
                        for project_id, value_json in uses
                    ]
                )
            )
        except grpc.RpcError as exc:
            logger.warning(
                "task-svc label counts unavailable", extra={"grpc_code": str(exc.code())}
            )
            return None
        return [int(value) for value in answer.annotation_counts]

    return count


__all__ = [
    "LabelUseCounter",
    "NotFound",
    "OverlapSetter",
    "UsesFetcher",
    "UsesInProject",
    "label_use_counter",
    "labels_in_use_fetcher",
    "project_overlap_setter",
    "project_tasks_deleter",
    "register_project_service",
    "task_counts_fetcher",
]

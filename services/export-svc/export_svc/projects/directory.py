"""What export-svc knows of projects and people: project-svc's answers over gRPC, cached.

Every export needs the project's organization (for access) and its labeling config (which
formats fit, which tags hold labels); snapshots show their author's name. A config edited
in project-svc is seen here within `ttl_seconds`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc
from labelops.project.v1 import project_pb2, project_pb2_grpc
from labelops_common.grpcutil import peer_error, peer_stub
from labelops_common.labelconfig import LabelConfig, LabelConfigError, parse_label_config
from labelops_common.settings import CommonSettings

logger = logging.getLogger(__name__)

UserObject = dict[str, Any]


@dataclass(frozen=True)
class ProjectInfo:
    id: int
    organization_id: int
    title: str = ""
    label_config: str = ""
    maximum_annotations: int = 1
    #: Label Studio's `parsed_label_config`: control name → type, to_name, inputs, labels.
    parsed: dict[str, Any] = field(default_factory=dict)
    config: LabelConfig | None = None

    @classmethod
    def from_message(cls, message: project_pb2.Project) -> ProjectInfo:
        try:
            config = parse_label_config(message.label_config) if message.label_config else None
        except LabelConfigError:
            config = None
        return cls(
            id=message.id,
            organization_id=message.organization_id,
            title=message.title,
            label_config=message.label_config,
            maximum_annotations=max(message.maximum_annotations, 1),
            parsed=json.loads(message.parsed_label_config_json or b"{}"),
            config=config,
        )


class ProjectDirectory:
    def __init__(self, common: CommonSettings, *, ttl_seconds: float = 5.0) -> None:
        self._common = common
        self._ttl = ttl_seconds
        self._cache: dict[int, tuple[float, ProjectInfo | None]] = {}
        self._users: dict[tuple[int, int], tuple[float, UserObject | None]] = {}
        self._lock = threading.Lock()

    def _stub(self) -> Any:
        return peer_stub(
            project_pb2_grpc.ProjectServiceStub,
            target=self._common.peer_address("project-svc"),
            deadline_seconds=self._common.grpc_deadline_seconds,
        )

    def get(self, project_id: int) -> ProjectInfo | None:
        """The project, or None if project-svc does not know it; PeerError if it is down."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(project_id)
        if cached and cached[0] > now:
            return cached[1]
        try:
            message = self._stub().GetProject(project_pb2.GetProjectRequest(project_id=project_id))
            info: ProjectInfo | None = ProjectInfo.from_message(message)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise peer_error("project-svc", exc) from None
            info = None
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[project_id] = (now + self._ttl, info)
        return info

    def describe_users(
        self, organization_id: int, user_ids: Iterable[int | None]
    ) -> dict[int, UserObject]:
        """Label Studio's short user objects by id; unknown ids (or project-svc down) get `{"id": n}`."""
        wanted = {user_id for user_id in user_ids if user_id}
        now = time.monotonic()
        found: dict[int, UserObject] = {}
        missing: list[int] = []
        with self._lock:
            for user_id in wanted:
                cached = self._users.get((organization_id, user_id))
                if cached and cached[0] > now:
                    found[user_id] = cached[1] or {"id": user_id}
                else:
                    missing.append(user_id)
        if not missing:
            return found
        try:
            answer = self._stub().GetUsers(
                project_pb2.GetUsersRequest(organization_id=organization_id, user_ids=missing)
            )
        except grpc.RpcError as exc:
            logger.warning("user names unavailable", extra={"grpc_code": str(exc.code())})
            return found | {user_id: {"id": user_id} for user_id in missing}
        fetched = {
            user.id: {
                "id": user.id,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "avatar": None,
            }
            for user in answer.users
        }
        with self._lock:
            if len(self._users) > 50_000:
                self._users.clear()
            for user_id in missing:
                self._users[(organization_id, user_id)] = (now + 60.0, fetched.get(user_id))
        return found | {user_id: fetched.get(user_id) or {"id": user_id} for user_id in missing}

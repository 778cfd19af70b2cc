"""People as project-svc describes them (Label Studio's short user objects), cached per process.

Label Studio expands `completed_by` and an export's `created_by` into the user's name,
email and initials; services keep only user ids, so they ask project-svc for a batch of
the organization's members and remember the answer for a minute. If project-svc cannot
answer, the id alone is served rather than failing the read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import grpc
from labelops.project.v1 import project_pb2, project_pb2_grpc
from pydantic import BaseModel

from labelops_common.grpcutil import peer_stub
from labelops_common.settings import CommonSettings

logger = logging.getLogger(__name__)

UserObject = dict[str, Any]


class PersonAnswer(BaseModel):
    """A `UserObject` in an answer. Only `id` when project-svc could not name the user, so
    routes serving it set `response_model_exclude_unset` (absent fields stay absent)."""

    id: int
    first_name: str | None = None
    last_name: str | None = None
    avatar: str | None = None
    email: str | None = None
    initials: str | None = None


class UserDirectory:
    def __init__(self, common: CommonSettings, *, ttl_seconds: float = 60.0) -> None:
        self._common = common
        self._ttl = ttl_seconds
        self._cache: dict[tuple[int, int], tuple[float, UserObject | None]] = {}
        self._lock = threading.Lock()

    def describe(
        self, organization_id: int, user_ids: Iterable[int | None]
    ) -> dict[int, UserObject]:
        """Label Studio's user objects by id; ids project-svc does not know get `{"id": n}`."""
        wanted = {user_id for user_id in user_ids if user_id}
        now = time.monotonic()
        found: dict[int, UserObject] = {}
        missing: list[int] = []
        with self._lock:
            for user_id in wanted:
                cached = self._cache.get((organization_id, user_id))
                if cached and cached[0] > now:
                    found[user_id] = cached[1] or {"id": user_id}
                else:
                    missing.append(user_id)
        if missing:
            fetched = self._fetch(organization_id, missing)
            if fetched is not None:
                with self._lock:
                    if len(self._cache) > 50_000:
                        self._cache.clear()
                    for user_id in missing:
                        self._cache[(organization_id, user_id)] = (
                            now + self._ttl,
                            fetched.get(user_id),
                        )
            for user_id in missing:
                found[user_id] = (fetched or {}).get(user_id) or {"id": user_id}
        return found

    def _fetch(self, organization_id: int, user_ids: list[int]) -> dict[int, UserObject] | None:
        stub = peer_stub(
            project_pb2_grpc.ProjectServiceStub,
            target=self._common.peer_address("project-svc"),
            deadline_seconds=self._common.grpc_deadline_seconds,
        )
        try:
            answer = stub.GetUsers(
                project_pb2.GetUsersRequest(organization_id=organization_id, user_ids=user_ids)
            )
        except grpc.RpcError as exc:
            logger.warning("user names unavailable", extra={"grpc_code": str(exc.code())})
            return None
        return {
            user.id: {
                "id": user.id,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "avatar": None,
                "email": user.email,
                "initials": user.initials,
            }
            for user in answer.users
        }

"""Storage URIs in task data become URLs a backend can fetch, through storage-sync.

A task imported from a bucket holds `s3://...`, `gs://...` or `azure-blob://...`; a model
server cannot read those. Before tasks go to `/predict`, their URIs are resolved by
storage-sync's `ResolveUris` into presigned URLs (Label Studio sends its own resolve URLs,
which need the backend to hold a token). When storage-sync cannot resolve (not deployed,
no storage for the bucket, down), the tasks go as they are: a backend with its own
credentials can still read them, and a prediction is never blocked on it.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import grpc
from labelops.storage.v1 import storage_pb2, storage_pb2_grpc
from labelops_common.grpcutil import grpc_channel
from labelops_common.settings import CommonSettings

logger = logging.getLogger(__name__)

STORAGE_SCHEMES = ("s3://", "gs://", "azure-blob://")
#: After storage-sync could not answer at all, it is not asked again for this long.
QUIET_SECONDS = 60.0


def storage_uris(value: Any) -> list[str]:
    """Every storage URI in a task's data, walking lists and objects."""
    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, str):
            if item.startswith(STORAGE_SCHEMES):
                found.append(item)
        elif isinstance(item, list):
            for child in item:
                walk(child)
        elif isinstance(item, dict):
            for child in item.values():
                walk(child)

    walk(value)
    return found


def replaced(value: Any, urls: dict[str, str]) -> Any:
    if isinstance(value, str):
        return urls.get(value, value)
    if isinstance(value, list):
        return [replaced(child, urls) for child in value]
    if isinstance(value, dict):
        return {key: replaced(child, urls) for key, child in value.items()}
    return value


class MediaResolver:
    def __init__(
        self,
        common: CommonSettings,
        *,
        ttl_seconds: int = 3600,
        deadline_seconds: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._common = common
        self._ttl = ttl_seconds
        self._deadline = deadline_seconds
        self._clock = clock
        self._quiet_until = 0.0
        self._lock = threading.Lock()

    def resolve(self, project_id: int, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`tasks` with the storage URIs of their data replaced by URLs, where possible."""
        uris = sorted({uri for task in tasks for uri in storage_uris(task.get("data"))})
        if not uris:
            return tasks
        with self._lock:
            if self._quiet_until > self._clock():
                return tasks
        stub = storage_pb2_grpc.StorageServiceStub(
            grpc_channel(self._common.peer_address("storage-sync"), retries=False)
        )
        try:
            answer = stub.ResolveUris(
                storage_pb2.ResolveUrisRequest(
                    project_id=project_id, uris=uris, ttl_seconds=self._ttl
                ),
                timeout=self._deadline,
            )
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNAVAILABLE):
                with self._lock:
                    self._quiet_until = self._clock() + QUIET_SECONDS
            logger.info(
                "storage URIs sent unresolved",
                extra={"project_id": project_id, "grpc_code": exc.code().name},
            )
            return tasks
        urls = {item.uri: item.url for item in answer.resolved if item.url and not item.error}
        if not urls:
            return tasks
        resolved = []
        for task in tasks:
            task = copy.copy(task)
            task["data"] = replaced(task.get("data"), urls)
            resolved.append(task)
        return resolved

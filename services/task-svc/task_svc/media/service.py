"""Storage references in task data (`s3://`, `gs://`, `azure-blob://`), resolved when tasks
are served, as Label Studio does with `resolve_uri=true` (its default).

storage-sync's `StorageService.ResolveUris` turns each reference into a presigned URL that
lives as long as the storage's `presign_ttl`. A reference it cannot presign (the storage
proxies, or storage-sync is unreachable) becomes Label Studio's proxy URL,
`/tasks/<id>/resolve/?fileuri=<base64>`, which storage-sync serves to signed-in users (a
redirect or the bytes). Tasks holding no reference cost nothing: no call is made.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from typing import Any

import grpc
from labelops.storage.v1 import storage_pb2, storage_pb2_grpc
from labelops_common.grpcutil import peer_stub
from labelops_common.settings import CommonSettings

logger = logging.getLogger(__name__)

STORAGE_SCHEMES = ("s3://", "gs://", "azure-blob://")


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.startswith(STORAGE_SCHEMES):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _replaced(value: Any, urls: dict[str, str]) -> Any:
    if isinstance(value, str):
        return urls.get(value, value)
    if isinstance(value, dict):
        return {key: _replaced(item, urls) for key, item in value.items()}
    if isinstance(value, list):
        return [_replaced(item, urls) for item in value]
    return value


def proxy_url(task_id: int, uri: str) -> str:
    fileuri = base64.urlsafe_b64encode(uri.encode()).decode()
    return f"/tasks/{task_id}/resolve/?fileuri={fileuri}"


class MediaResolver:
    """Calls storage-sync for the references of the tasks one answer serves."""

    def __init__(self, common: CommonSettings) -> None:
        self._common = common

    def presigned(self, project_id: int, uris: list[str]) -> dict[str, str]:
        """URI → presigned URL for those storage-sync could presign (others left out)."""
        stub = peer_stub(
            storage_pb2_grpc.StorageServiceStub,
            target=self._common.peer_address("storage-sync"),
            # The suite's gRPC deadline; past it, proxy URLs are handed out instead.
            deadline_seconds=self._common.grpc_deadline_seconds,
        )
        try:
            answer = stub.ResolveUris(
                storage_pb2.ResolveUrisRequest(project_id=project_id, uris=uris)
            )
        except grpc.RpcError as error:
            logger.warning(
                "storage references served through the proxy: storage-sync did not answer",
                extra={"grpc_code": error.code().name, "project_id": project_id},
            )
            return {}
        return {item.uri: item.url for item in answer.resolved if item.url and not item.error}

    def resolve_data(
        self, *, project_id: int, task_id: int, data: dict[str, Any]
    ) -> dict[str, Any]:
        """`data` with each storage reference replaced by a URL a browser can open."""
        uris = sorted(set(_references(data)))
        if not uris:
            return data
        urls = self.presigned(project_id, uris)
        for uri in uris:
            urls.setdefault(uri, proxy_url(task_id, uri))
        replaced: dict[str, Any] = _replaced(data, urls)
        return replaced

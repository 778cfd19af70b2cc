"""storage-sync's `StorageService`, called from export-svc.

`write` streams a file as a client stream: a header, then the file's chunks as they are
read, so memory stays one chunk whatever the file's size. The stream has its own channel
without the retry policy (gRPC cannot replay a stream whose first message went out) and a
long deadline of its own; a failed write is retried by writing the same key again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import grpc
from labelops.storage.v1 import storage_pb2, storage_pb2_grpc
from labelops_common.grpcutil import PeerError, grpc_channel, peer_error, peer_stub
from labelops_common.settings import CommonSettings

from export_svc.media import MediaUnavailable

logger = logging.getLogger(__name__)

PEER = "storage-sync"


@dataclass(frozen=True)
class ExportStorageInfo:
    id: int
    project_id: int
    type: str
    title: str


@dataclass(frozen=True)
class WrittenObject:
    key: str
    uri: str
    size: int
    md5: str


class StorageWriteFailed(Exception):
    """The storage did not take the file; `reason` says why in words a user can act on
    (storage-sync's, which names no credential)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StorageClient:
    def __init__(
        self, common: CommonSettings, *, write_deadline_seconds: float, resolve_ttl_seconds: int
    ) -> None:
        self._common = common
        self._write_deadline = write_deadline_seconds
        self._resolve_ttl = resolve_ttl_seconds

    def _stub(self) -> storage_pb2_grpc.StorageServiceStub:
        stub: storage_pb2_grpc.StorageServiceStub = peer_stub(
            storage_pb2_grpc.StorageServiceStub,
            target=self._common.peer_address(PEER),
            deadline_seconds=self._common.grpc_deadline_seconds,
        )
        return stub

    def export_storage(self, storage_id: int, *, organization_id: int) -> ExportStorageInfo | None:
        """The export storage if it is the organization's, else None; PeerError if
        storage-sync cannot answer."""
        try:
            found = self._stub().GetExportStorage(
                storage_pb2.GetExportStorageRequest(
                    storage_id=storage_id, organization_id=organization_id
                )
            )
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise peer_error(PEER, error) from None
        return ExportStorageInfo(
            id=found.id, project_id=found.project_id, type=found.type, title=found.title
        )

    def write(
        self,
        *,
        storage_id: int,
        project_id: int,
        name: str,
        chunks: Iterable[bytes],
        size: int,
    ) -> WrittenObject:
        """Stream `chunks` (`size` bytes in all) into `<prefix>/<name>` of the export
        storage; storage-sync publishes nothing unless all `size` bytes arrived.

        StorageWriteFailed when the storage refused or is gone; PeerError when
        storage-sync could not be reached (worth a retry)."""
        channel = grpc_channel(self._common.peer_address(PEER), retries=False)
        stub = storage_pb2_grpc.StorageServiceStub(channel)

        def messages() -> Iterator[storage_pb2.WriteExportArtifactRequest]:
            yield storage_pb2.WriteExportArtifactRequest(
                header=storage_pb2.ExportArtifactHeader(
                    storage_id=storage_id, project_id=project_id, name=name, size=size
                )
            )
            for chunk in chunks:
                if chunk:
                    yield storage_pb2.WriteExportArtifactRequest(chunk=chunk)

        try:
            written = stub.WriteExportArtifact(messages(), timeout=self._write_deadline)
        except grpc.RpcError as error:
            code = error.code()
            if code in (
                grpc.StatusCode.FAILED_PRECONDITION,
                grpc.StatusCode.NOT_FOUND,
                grpc.StatusCode.INVALID_ARGUMENT,
                grpc.StatusCode.DATA_LOSS,
            ):
                raise StorageWriteFailed(error.details() or code.name) from None
            raise peer_error(PEER, error) from None
        return WrittenObject(key=written.key, uri=written.uri, size=written.size, md5=written.md5)

    def resolve(self, project_id: int, uri: str) -> str:
        """A URL reading `uri` through an import storage of the project (a presigned one);
        MediaUnavailable with storage-sync's reason if there is none. A `CloudResolver`."""
        try:
            answer = self._stub().ResolveUris(
                storage_pb2.ResolveUrisRequest(
                    project_id=project_id, uris=[uri], ttl_seconds=self._resolve_ttl
                )
            )
        except grpc.RpcError as error:
            failed: PeerError = peer_error(PEER, error)
            raise MediaUnavailable(
                uri, f"storage-sync did not answer ({failed.code.name})"
            ) from None
        for resolved in answer.resolved:
            if resolved.uri == uri and resolved.url:
                return str(resolved.url)
            if resolved.uri == uri:
                raise MediaUnavailable(uri, resolved.error or "storage-sync cannot resolve it")
        raise MediaUnavailable(uri, "storage-sync cannot resolve it")

"""`StorageService`'s export-storage methods: export-svc checks a snapshot's target and
streams the finished file into it. Protobuf stays here; `exporting` takes plain values."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
from labelops.storage.v1 import storage_pb2
from labelops_common.db import Database
from labelops_common.grpcutil import abort

from storage_sync.backends import ConnectContext, StorageConnectionError
from storage_sync.storages.models import EXPORT, Storage
from storage_sync.storages.secrets import SecretBox
from storage_sync.sync import exporting


def get_export_storage(
    database: Database, request: storage_pb2.GetExportStorageRequest, context: grpc.ServicerContext
) -> storage_pb2.ExportStorage:
    with database.session() as session:
        storage = exporting.export_storage_in(
            session, storage_id=request.storage_id, organization_id=request.organization_id
        )
        found = (
            None
            if storage is None
            else storage_pb2.ExportStorage(
                id=storage.id, project_id=storage.project_id, type=storage.type, title=storage.title
            )
        )
    if found is None:
        abort(context, grpc.StatusCode.NOT_FOUND, f"no export storage {request.storage_id}")
        raise AssertionError  # abort raised
    return found


def write_export_artifact(
    database: Database,
    requests: Iterator[storage_pb2.WriteExportArtifactRequest],
    context: grpc.ServicerContext,
    *,
    box: SecretBox,
    connect: ConnectContext,
) -> storage_pb2.WrittenExportArtifact:
    first: storage_pb2.WriteExportArtifactRequest | None = next(requests, None)
    if first is None or first.WhichOneof("part") != "header":
        abort(context, grpc.StatusCode.INVALID_ARGUMENT, "the first message must be the header")
        raise AssertionError  # abort raised
    header = first.header
    storage = _target(database, header.storage_id, header.project_id)
    if storage is None:
        abort(
            context,
            grpc.StatusCode.NOT_FOUND,
            f"no export storage {header.storage_id} in project {header.project_id}",
        )
        raise AssertionError  # abort raised

    def chunks() -> Iterator[bytes]:
        for message in requests:
            if message.WhichOneof("part") != "chunk":
                abort(context, grpc.StatusCode.INVALID_ARGUMENT, "only one header per stream")
            yield message.chunk

    try:
        written = exporting.write_snapshot_object(
            storage,
            name=header.name,
            chunks=chunks(),
            box=box,
            context=connect,
            expected_size=header.size or None,
        )
    except exporting.SnapshotIncomplete as error:
        abort(context, grpc.StatusCode.DATA_LOSS, str(error))
    except ValueError as error:
        abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(error))
    except StorageConnectionError as error:
        abort(context, grpc.StatusCode.FAILED_PRECONDITION, error.reason)
    return storage_pb2.WrittenExportArtifact(
        key=written.key, uri=written.uri, size=written.size, md5=written.md5
    )


def _target(database: Database, storage_id: int, project_id: int) -> Storage | None:
    """The export storage, detached: no session stays open while the file streams."""
    with database.session() as session:
        storage = session.get(Storage, storage_id)
        if storage is None or storage.direction != EXPORT or storage.project_id != project_id:
            return None
        session.expunge(storage)
        return storage

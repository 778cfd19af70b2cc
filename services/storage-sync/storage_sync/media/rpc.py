"""`StorageService` over gRPC: task-svc (and ml-gateway) turn storage URIs into URLs;
export-svc writes snapshots into export storages (`storage_sync.sync.rpc`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
from labelops.storage.v1 import storage_pb2, storage_pb2_grpc
from labelops_common.db import Database
from labelops_common.directory import ProjectDirectory

from storage_sync.backends import ConnectContext
from storage_sync.media import service as media
from storage_sync.storages.secrets import SecretBox
from storage_sync.sync import rpc as export_rpc

#: URIs per `ResolveUris` call.
MAX_URIS = 1000


class StorageServicer(storage_pb2_grpc.StorageServiceServicer):
    def __init__(
        self,
        database: Database,
        *,
        projects: ProjectDirectory,
        box: SecretBox,
        context: ConnectContext,
    ) -> None:
        self.database = database
        self.projects = projects
        self.box = box
        self.context = context

    def ResolveUris(
        self, request: storage_pb2.ResolveUrisRequest, context: grpc.ServicerContext
    ) -> storage_pb2.ResolveUrisResponse:
        """Each URI to a presigned URL through a storage of the project. A storage that
        does not presign answers an error naming the proxy route (its objects are served
        at `/tasks/<id>/resolve/`), a local file its `/data/local-files/` URL."""
        if len(request.uris) > MAX_URIS:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"at most {MAX_URIS} uris per call")
        project = self.projects.get(request.project_id)
        if project is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"project {request.project_id} not found")
            raise AssertionError
        answers = []
        with self.database.session() as session:
            for uri in request.uris:
                answers.append(
                    self._one(
                        session, project.organization_id, project.id, uri, request.ttl_seconds
                    )
                )
        return storage_pb2.ResolveUrisResponse(resolved=answers)

    def GetExportStorage(
        self, request: storage_pb2.GetExportStorageRequest, context: grpc.ServicerContext
    ) -> storage_pb2.ExportStorage:
        return export_rpc.get_export_storage(self.database, request, context)

    def WriteExportArtifact(
        self,
        request_iterator: Iterator[storage_pb2.WriteExportArtifactRequest],
        context: grpc.ServicerContext,
    ) -> storage_pb2.WrittenExportArtifact:
        return export_rpc.write_export_artifact(
            self.database, request_iterator, context, box=self.box, connect=self.context
        )

    def _one(
        self, session: object, organization_id: int, project_id: int, uri: str, ttl: int
    ) -> storage_pb2.ResolvedUri:
        for storage in media.candidate_storages(
            session,  # type: ignore[arg-type]
            uri=uri,
            organization_id=organization_id,
            project_id=project_id,
        ):
            resolved = media.resolve(
                storage, uri, box=self.box, context=self.context, ttl_seconds=ttl
            )
            if resolved is None:
                continue
            if resolved.url:
                return storage_pb2.ResolvedUri(uri=uri, url=resolved.url)
            if storage.type == "localfiles":
                return storage_pb2.ResolvedUri(uri=uri, url=uri)
            return storage_pb2.ResolvedUri(
                uri=uri,
                error="presign is off for this storage: served at /tasks/<id>/resolve/?fileuri=...",
            )
        return storage_pb2.ResolvedUri(uri=uri, error="no storage of the project holds this URI")


def register_storage_service(
    database: Database,
    *,
    projects: ProjectDirectory,
    box: SecretBox,
    context: ConnectContext,
) -> Callable[[grpc.Server], None]:
    def register(server: grpc.Server) -> None:
        storage_pb2_grpc.add_StorageServiceServicer_to_server(
            StorageServicer(database, projects=projects, box=box, context=context), server
        )

    return register

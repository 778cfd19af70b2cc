"""export-svc's gRPC face: peers read a snapshot's state (`GetExport`) without its tables."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from labelops.export.v1 import export_pb2, export_pb2_grpc
from labelops_common.db import Database

from export_svc.exports.models import Export
from export_svc.exports.schemas import LABEL_STUDIO_STATUS


class ExportServicer(export_pb2_grpc.ExportServiceServicer):
    def __init__(self, database: Database) -> None:
        self.database = database

    def GetExport(
        self, request: export_pb2.GetExportRequest, context: grpc.ServicerContext
    ) -> export_pb2.Export:
        with self.database.session() as session:
            export = session.get(Export, request.export_id)
            if export is None or export.project_id != request.project_id:
                context.abort(
                    grpc.StatusCode.NOT_FOUND,
                    f"export {request.export_id} not found in project {request.project_id}",
                )
                raise AssertionError("context.abort returned")
            return export_pb2.Export(
                id=export.id,
                project_id=export.project_id,
                status=LABEL_STUDIO_STATUS.get(export.status, export.status),
                task_number=int((export.counters or {}).get("task_number") or 0),
                md5=export.md5,
            )


def register_export_service(database: Database) -> Callable[[grpc.Server], None]:
    def register(server: grpc.Server) -> None:
        export_pb2_grpc.add_ExportServiceServicer_to_server(ExportServicer(database), server)

    return register

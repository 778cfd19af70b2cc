"""Builds storage-sync. Storage connections and syncs arrive with its issue; the skeleton serves health, metrics and an empty StorageService."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import grpc
from labelops.storage.v1 import storage_pb2_grpc
from labelops_common.db import Database
from labelops_common.service import ServiceRuntime, assemble_service
from labelops_common.settings import CommonSettings

from storage_sync.jobs import JOBS
from storage_sync.settings import Settings


def grpc_registrations(_database: Database) -> Sequence[Callable[[grpc.Server], None]]:
    """The servicer answers UNIMPLEMENTED for every method until this service's issue."""

    def register(server: grpc.Server) -> None:
        storage_pb2_grpc.add_StorageServiceServicer_to_server(
            storage_pb2_grpc.StorageServiceServicer(), server
        )

    return [register]


def build_service(common: CommonSettings, settings: Settings | None = None) -> ServiceRuntime:
    return assemble_service(
        common=common,
        settings=settings or Settings(),
        routers=[],
        migrations_dir=Path(__file__).parent / "migrations",
        grpc_registrations=grpc_registrations,
        grpc_service_names=("labelops.storage.v1.StorageService",),
        jobs=JOBS,
        peers=("project-svc", "task-svc"),
    )

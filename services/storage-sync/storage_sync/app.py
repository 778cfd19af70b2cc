"""Builds storage-sync: Label Studio's storage endpoints over REST, syncs on the `storage`
queue, export-on-save from task-svc's events, media resolution (REST and `StorageService`).

Tasks are created and read through task-svc's gRPC; projects come from project-svc.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import grpc
from labelops_common.db import Database
from labelops_common.directory import ProjectDirectory
from labelops_common.outbound import outbound_policy
from labelops_common.service import ServiceRuntime, assemble_service
from labelops_common.settings import CommonSettings
from sqlalchemy import func, select

from storage_sync.backends import ConnectContext
from storage_sync.jobs import JOBS, StorageJobResources
from storage_sync.media.router import router as media_router
from storage_sync.media.rpc import register_storage_service
from storage_sync.settings import Settings
from storage_sync.storages.models import IMPORT, Storage
from storage_sync.storages.router import router as storages_router
from storage_sync.storages.secrets import SecretBox
from storage_sync.sync.metrics import expose_sync_lag
from storage_sync.sync.tasks import TaskClient


def build_service(
    common: CommonSettings,
    settings: Settings | None = None,
    *,
    context: ConnectContext | None = None,
) -> ServiceRuntime:
    """`context` replaces the outbound policy and document root the settings give (tests
    that talk to emulators on loopback pass a policy allowing private networks)."""
    settings = settings or Settings()
    context = context or ConnectContext(
        policy=outbound_policy(), document_root=settings.local_files_document_root
    )
    box = SecretBox(common.resolved_secret_key())
    projects = ProjectDirectory(common)
    tasks = TaskClient(
        common,
        batch_size=settings.task_batch_size,
        deadline_seconds=settings.bulk_create_deadline_seconds,
    )

    def grpc_registrations(database: Database) -> Sequence[Callable[[grpc.Server], None]]:
        return [register_storage_service(database, projects=projects, box=box, context=context)]

    runtime = assemble_service(
        common=common,
        settings=settings,
        routers=[storages_router, media_router],
        migrations_dir=Path(__file__).parent / "migrations",
        grpc_registrations=grpc_registrations,
        grpc_service_names=("labelops.storage.v1.StorageService",),
        jobs=JOBS,
        peers=("project-svc", "task-svc"),
    )
    state = runtime.http_app.state
    state.project_directory = projects
    state.secret_box = box
    state.connect_context = context
    state.task_client = tasks
    runtime.provide_job_resources(
        StorageJobResources(
            database=runtime.database,
            settings=settings,
            projects=projects,
            box=box,
            context=context,
            tasks=tasks,
        )
    )
    database = runtime.database

    def sync_lag_rows() -> list[tuple[int, str, datetime]]:
        with database.session() as session:
            rows = session.execute(
                select(
                    Storage.id, Storage.type, func.coalesce(Storage.last_sync, Storage.created_at)
                ).where(Storage.direction == IMPORT, Storage.synchronizable.is_(True))
            )
            return [(int(row[0]), str(row[1]), row[2]) for row in rows]

    expose_sync_lag(sync_lag_rows)
    return runtime

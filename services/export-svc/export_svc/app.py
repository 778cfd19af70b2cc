"""Builds export-svc: Label Studio's export endpoints over REST, snapshots on the `exports` queue,
and `GetExport` over gRPC.

Tasks come from task-svc (`StreamTasks`), projects and people from project-svc; files go
to the artifact storage `LABELOPS_ARTIFACT_STORAGE` names (local disk under the data dir by
default; S3, GCS or Azure Blob when the worker and the API run in different pods).
storage-sync (`StorageService`) writes snapshots to export storages and resolves bucket
URIs of media; it is not a readiness peer: without it, only those two fail, each with
its reason.
"""

from __future__ import annotations

from pathlib import Path

from labelops_common.directory import ProjectDirectory, UserDirectory
from labelops_common.outbound import OutboundPolicy, outbound_policy
from labelops_common.service import ServiceRuntime, assemble_service
from labelops_common.settings import CommonSettings

from export_svc.artifacts import artifact_storage
from export_svc.exports.jobs import remove_expired_snapshots
from export_svc.exports.router import router as exports_router
from export_svc.exports.rpc import register_export_service
from export_svc.jobs import JOBS, ExportJobResources
from export_svc.media import MediaAccess
from export_svc.settings import Settings
from export_svc.storages import StorageClient
from export_svc.tasks.stream import TaskSource


def build_service(
    common: CommonSettings,
    settings: Settings | None = None,
    *,
    outbound: OutboundPolicy | None = None,
) -> ServiceRuntime:
    """`outbound` replaces the process's outbound address policy for media downloads (tests
    fetching from servers on loopback pass one allowing private networks)."""
    settings = settings or Settings()
    runtime = assemble_service(
        common=common,
        settings=settings,
        routers=[exports_router],
        migrations_dir=Path(__file__).parent / "migrations",
        grpc_registrations=lambda database: [register_export_service(database)],
        grpc_service_names=("labelops.export.v1.ExportService",),
        jobs=JOBS,
        peers=("project-svc", "task-svc"),
    )
    projects = ProjectDirectory(common)
    people = UserDirectory(common)
    storage = artifact_storage(common, local_root=settings.resolved_artifacts_dir(common))
    source = TaskSource(
        common,
        batch_size=settings.stream_batch_size,
        deadline_seconds=settings.stream_deadline_seconds,
    )
    # Uploads are task-svc's keys in the same artifact storage (its own root on local disk).
    uploads = (
        storage
        if common.artifact_storage != "local"
        else artifact_storage(common, local_root=settings.resolved_uploads_dir(common))
    )
    storages = StorageClient(
        common,
        write_deadline_seconds=settings.storage_write_deadline_seconds,
        resolve_ttl_seconds=settings.media_url_ttl_seconds,
    )
    media = MediaAccess(
        uploads=uploads,
        policy=outbound or outbound_policy(),
        max_bytes=settings.media_max_bytes,
        local_files_root=settings.local_files_root,
        timeout_seconds=settings.media_timeout_seconds,
        cloud=storages.resolve,
    )
    state = runtime.http_app.state
    state.project_directory = projects
    state.user_directory = people
    state.artifact_storage = storage
    state.task_source = source
    state.media_access = media
    state.storage_client = storages
    # Job bodies run outside any request: they get this instance's parts.
    resources = ExportJobResources(
        database=runtime.database,
        projects=projects,
        people=people,
        storage=storage,
        source=source,
        media=media,
        storages=storages,
        progress_interval_seconds=settings.progress_interval_seconds,
        retention_days=settings.snapshot_retention_days,
    )
    runtime.provide_job_resources(resources)
    # Worker processes remove expired snapshots beside their stale-job sweeps.
    runtime.sweeps.append(lambda: remove_expired_snapshots(resources))
    return runtime

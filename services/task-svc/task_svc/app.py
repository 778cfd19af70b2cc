"""Builds task-svc. Its REST routes (tasks, annotations, import, data manager) come with
its own issue; today it serves project counters over gRPC."""

from __future__ import annotations

from pathlib import Path

from labelops_common.service import ServiceRuntime, assemble_service
from labelops_common.settings import CommonSettings

from task_svc.counts.rpc import register_task_service
from task_svc.settings import Settings


def build_service(common: CommonSettings, settings: Settings | None = None) -> ServiceRuntime:
    return assemble_service(
        common=common,
        settings=settings or Settings(),
        routers=[],
        migrations_dir=Path(__file__).parent / "migrations",
        grpc_registrations=lambda database: [register_task_service(database)],
        grpc_service_names=("labelops.task.v1.TaskService",),
        queues=("imports",),
        peers=("project-svc",),
    )

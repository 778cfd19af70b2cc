"""Builds ml-gateway: Label Studio's `/api/ml` over REST, `MLGateway` over gRPC for
task-svc, prediction jobs on the `ml` queue, and the schedule that refreshes backends.

Every call to a model server goes through one `ProtocolClient` per process (the outbound
address policy, Label Studio's timeouts, a concurrency limit and a circuit breaker per
backend), shared by requests, RPCs and jobs.
"""

from __future__ import annotations

from pathlib import Path

from labelops_common.directory import ProjectDirectory
from labelops_common.outbound import OutboundPolicy, outbound_policy
from labelops_common.service import ServiceRuntime, assemble_service
from labelops_common.settings import CommonSettings

from ml_gateway.backends.guard import Guards
from ml_gateway.backends.monitor import BackendMonitor
from ml_gateway.backends.protocol import ProtocolClient
from ml_gateway.backends.router import router as backends_router
from ml_gateway.jobs import JOBS, MLJobResources
from ml_gateway.predictions.media import MediaResolver
from ml_gateway.predictions.router import router as predictions_router
from ml_gateway.predictions.rpc import register_ml_gateway
from ml_gateway.predictions.tasks import TaskStore
from ml_gateway.settings import Settings
from ml_gateway.training.router import router as training_router


def build_service(
    common: CommonSettings,
    settings: Settings | None = None,
    *,
    policy: OutboundPolicy | None = None,
) -> ServiceRuntime:
    """`policy` defaults to the process's outbound policy (tests that reach loopback
    backends pass one allowing private networks)."""
    settings = settings or Settings()
    projects = ProjectDirectory(common)
    client = ProtocolClient(
        settings,
        policy or outbound_policy(),
        Guards(
            concurrency=settings.backend_concurrency,
            failure_threshold=settings.breaker_failure_threshold,
            reset_seconds=settings.breaker_reset_seconds,
        ),
        public_url=common.public_url,
    )
    tasks = TaskStore(
        common,
        deadline_seconds=max(common.grpc_deadline_seconds, 30.0),
        media=MediaResolver(common, ttl_seconds=settings.media_url_ttl_seconds),
    )
    runtime = assemble_service(
        common=common,
        settings=settings,
        routers=[backends_router, predictions_router, training_router],
        migrations_dir=Path(__file__).parent / "migrations",
        grpc_registrations=lambda database: [
            register_ml_gateway(database, projects, client, tasks)
        ],
        grpc_service_names=("labelops.ml.v1.MLGateway",),
        jobs=JOBS,
        peers=("project-svc", "task-svc"),
    )
    state = runtime.http_app.state
    state.project_directory = projects
    state.protocol_client = client
    state.task_store = tasks
    runtime.provide_job_resources(
        MLJobResources(database=runtime.database, projects=projects, client=client, tasks=tasks)
    )
    monitor = BackendMonitor(
        runtime.database, client, projects.get, interval_seconds=settings.refresh_interval_seconds
    )
    state.backend_monitor = monitor
    runtime.on_start = monitor.start
    return runtime

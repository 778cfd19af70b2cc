"""Assembles services into a running process: all five (`--target all`) or one.

Each service keeps its own gRPC server even in one process, so the code paths between
services are the production ones; only the addresses are loopback.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import socket
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from labelops_common.embedded_postgres import EmbeddedPostgres
from labelops_common.events import flush_sent_events
from labelops_common.grpcutil import GrpcServerHandle, build_grpc_server
from labelops_common.jobs import StaleJobSweeper
from labelops_common.migrations import upgrade_to_head
from labelops_common.observability import (
    ReadinessCheck,
    add_metrics_route,
    build_health_router,
    configure_logging,
    configure_tracing,
    database_check,
    instrument_grpc,
)
from labelops_common.queue import (
    create_celery_app,
    is_embedded_queue,
    purge_delivered_messages,
    start_embedded_worker,
)
from labelops_common.service import ServiceJobs, ServiceRuntime
from labelops_common.settings import (
    EMBEDDED_QUEUE_DATABASE,
    SERVICE_NAMES,
    CommonSettings,
    embedded_database_name,
)

logger = logging.getLogger(__name__)

#: Each service's package: `<package>.app.build_service(common) -> ServiceRuntime`,
#: `<package>.settings.Settings`, `<package>.jobs.JOBS` (its queues and job modules), and
#: its Alembic history in `<package>/migrations`.
SERVICE_PACKAGES: dict[str, str] = {
    "project-svc": "project_svc",
    "task-svc": "task_svc",
    "storage-sync": "storage_sync",
    "export-svc": "export_svc",
    "ml-gateway": "ml_gateway",
}

#: Every process knows the events deliver tasks: it sends events, whatever it consumes.
EVENTS_MODULE = "labelops_common.events"


def resolve_targets(target: str) -> list[str]:
    if target == "all":
        return list(SERVICE_NAMES)
    if target not in SERVICE_NAMES:
        raise SystemExit(
            f"unknown target {target!r}; choose all or one of {', '.join(SERVICE_NAMES)}"
        )
    return [target]


def declared_jobs(service: str) -> ServiceJobs:
    """The service's queues and job modules, read without building it."""
    jobs: ServiceJobs = importlib.import_module(f"{SERVICE_PACKAGES[service]}.jobs").JOBS
    return jobs


def services_owning(queues: Sequence[str]) -> list[str]:
    """The services whose declared queues include one of `queues`; every queue must have one."""
    owners = [name for name in SERVICE_NAMES if set(declared_jobs(name).queues) & set(queues)]
    owned = {queue for name in owners for queue in declared_jobs(name).queues}
    unowned = sorted(set(queues) - owned)
    if unowned:
        raise SystemExit(f"no service owns the queue(s) {', '.join(unowned)}")
    return owners


def build_runtime(service: str, common: CommonSettings) -> ServiceRuntime:
    module = importlib.import_module(f"{SERVICE_PACKAGES[service]}.app")
    runtime: ServiceRuntime = module.build_service(common)
    return runtime


def free_loopback_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class ServiceDatabase:
    """A service's database as its settings name it: what migrating it takes, known
    without building the service (so a parent process can migrate while children import)."""

    service: str
    url: str
    migrations_dir: Path
    #: No URL is configured: it lives on the embedded PostgreSQL.
    embedded: bool


def service_databases(common: CommonSettings, targets: Sequence[str]) -> list[ServiceDatabase]:
    found = []
    for name in targets:
        package = SERVICE_PACKAGES[name]
        settings = importlib.import_module(f"{package}.settings").Settings()
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations
        found.append(
            ServiceDatabase(
                service=name,
                url=settings.resolved_database_url(common),
                migrations_dir=Path(next(iter(spec.submodule_search_locations))) / "migrations",
                embedded=settings.uses_embedded_database(),
            )
        )
    return found


def migrate(databases: Sequence[ServiceDatabase]) -> None:
    for database in databases:
        upgrade_to_head(
            script_location=database.migrations_dir,
            database_url=database.url,
            service_name=database.service,
        )
        logger.info("migrated", extra={"service_target": database.service})


def start_embedded_postgres(
    common: CommonSettings, databases: Sequence[ServiceDatabase]
) -> EmbeddedPostgres | None:
    """Start the embedded PostgreSQL if a service's database or the queue is unconfigured.

    Creates the databases that are missing. Returns the server if this process started it
    (and must stop it), None if nothing needed it or it was running already.
    """
    names = [embedded_database_name(d.service) for d in databases if d.embedded]
    if common.uses_embedded_queue():
        names.append(EMBEDDED_QUEUE_DATABASE)
    if not names:
        return None
    server = common.embedded_postgres()
    started = server.start(databases=names)
    if started:
        logger.info("embedded PostgreSQL started", extra={"pgdata": str(server.pgdata)})
    return server if started else None


def configure_process(common: CommonSettings, *, service: str) -> None:
    configure_logging(level=common.log_level, json_format=common.log_json, service=service)
    configure_tracing(
        service_name=f"labelops-{service}",
        exporter=common.tracing_exporter,
        otlp_endpoint=common.tracing_otlp_endpoint,
    )
    instrument_grpc()


@dataclass
class RunningSuite:
    """Everything a `serve` process started, so it can be stopped in order."""

    common: CommonSettings
    runtimes: dict[str, ServiceRuntime]
    http_app: Any
    grpc_servers: dict[str, GrpcServerHandle] = field(default_factory=dict)
    worker: Any = None
    sweeper: StaleJobSweeper | None = None
    embedded_postgres: EmbeddedPostgres | None = None

    def stop(self) -> None:
        # Committed events still in this process's outbox go out before the worker stops.
        flush_sent_events(timeout=5.0)
        if self.sweeper is not None:
            self.sweeper.stop()
        if self.worker is not None:
            self.worker.stop(timeout=10)
        for handle in self.grpc_servers.values():
            handle.stop(grace=2)
        for runtime in self.runtimes.values():
            runtime.close()
        if self.embedded_postgres is not None:
            self.embedded_postgres.stop()


def _process_app(runtimes: dict[str, ServiceRuntime]) -> FastAPI:
    """`/metrics`, `/healthz` and `/readyz` for the whole single process."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    checks: dict[str, ReadinessCheck] = {
        f"{name}.database": database_check(runtime.database.engine)
        for name, runtime in runtimes.items()
    }
    app.include_router(build_health_router(checks=checks))
    add_metrics_route(app)
    return app


#: The queues of events and webhook deliveries: `serve --processes N` gives them a worker
#: process of its own (`processes.py`).
EVENT_QUEUES = frozenset({"events", "webhooks"})


def start_suite(
    common: CommonSettings,
    *,
    targets: Sequence[str],
    run_migrations: bool,
    embedded_worker: bool,
    worker_queues: Callable[[str], bool] | None = None,
) -> RunningSuite:
    """Build, migrate, start gRPC servers and (in single-process mode) the worker, on the
    suite's queues that `worker_queues` accepts (all by default)."""
    single_process = len(targets) > 1
    if single_process:
        # Every service gets a free loopback port, known before any service is built.
        common.grpc_peers = {name: f"127.0.0.1:{free_loopback_port()}" for name in targets} | dict(
            common.grpc_peers
        )
        common.data_dir.mkdir(parents=True, exist_ok=True)
    databases = service_databases(common, targets)
    embedded_postgres = start_embedded_postgres(common, databases)
    if run_migrations:
        migrate(databases)
    runtimes = {name: build_runtime(name, common) for name in targets}
    suite = RunningSuite(common=common, runtimes=runtimes, http_app=None)
    suite.embedded_postgres = embedded_postgres
    for name, runtime in runtimes.items():
        bind = common.peer_address(name) if single_process else _bind_for(runtime)
        handle = build_grpc_server(
            service_name=name,
            bind=bind,
            register=runtime.grpc_registrations,
            service_full_names=runtime.grpc_service_names,
            reflection_enabled=common.grpc_reflection,
        )
        handle.start()
        suite.grpc_servers[name] = handle
    for runtime in runtimes.values():
        if runtime.on_start is not None:
            runtime.on_start()
    if single_process:
        from labelops_runtime.dispatcher import RouteTableDispatcher
        from labelops_runtime.web import web_app

        suite.http_app = RouteTableDispatcher(
            services={name: runtime.http_app for name, runtime in runtimes.items()},
            process_app=_process_app(runtimes),
            fallback=web_app(common.web_dir),
        )
    else:
        from labelops_runtime.body_limits import with_body_limits

        suite.http_app = with_body_limits(next(iter(runtimes.values())).http_app)
    # Every process sends jobs and events, also the ones whose queues other workers consume.
    celery_app = make_celery_app(common, runtimes.values())
    if embedded_worker:
        queues = sorted({queue for runtime in runtimes.values() for queue in runtime.queues})
        if worker_queues is not None:
            queues = [queue for queue in queues if worker_queues(queue)]
        suite.worker = start_embedded_worker(
            celery_app, queues=queues, concurrency=common.embedded_worker_concurrency
        )
        suite.sweeper = start_job_sweeper(common, runtimes.values())
    return suite


def start_job_sweeper(common: CommonSettings, runtimes: Any) -> StaleJobSweeper:
    """Re-enqueue the stale jobs of these services every `job_sweep_interval_seconds`, in a
    process that runs workers, and run their other sweeps; on the embedded queue, also
    delete the messages already taken."""
    grace = timedelta(seconds=common.job_queued_grace_seconds)
    sweeps: list[Callable[[], int]] = [
        sweep for runtime in runtimes for sweep in runtime.periodic_sweeps(queued_grace=grace)
    ]
    broker_url = common.resolved_broker_url()
    if is_embedded_queue(broker_url):
        sweeps.append(lambda: purge_delivered_messages(broker_url))

    def sweep_all() -> int:
        return sum(sweep() for sweep in sweeps)

    sweeper = StaleJobSweeper(sweep_all, interval_seconds=common.job_sweep_interval_seconds)
    sweeper.start()
    return sweeper


def _bind_for(runtime: ServiceRuntime) -> str:
    settings = runtime.http_app.state.settings
    bind: str = settings.resolved_grpc_bind()
    return bind


def make_celery_app(common: CommonSettings, runtimes: Any) -> Any:
    """The process's Celery app, knowing the tasks of these services' job modules."""
    runtimes = list(runtimes)
    queues = sorted({queue for runtime in runtimes for queue in runtime.queues})
    app = create_celery_app(name="labelops", broker_url=common.resolved_broker_url(), queues=queues)
    importlib.import_module(EVENTS_MODULE)
    for runtime in runtimes:
        runtime.job_handles()
    return app

"""What a service hands to the runtime: its HTTP app, gRPC servicers, database, jobs.

The `labelops` command assembles these, either all five in one process or one per
process, so a service never knows which mode it runs in.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import grpc
from fastapi import APIRouter, FastAPI

from labelops_common.audit.retention import AuditRetentionSweep
from labelops_common.audit.rpc import AUDIT_LOG_SERVICE_NAME, register_audit_log
from labelops_common.auth.authenticate import LegacyTokenResolver
from labelops_common.db import Database
from labelops_common.http.app import create_service_app
from labelops_common.jobs import (
    QUEUED_GRACE,
    JobResources,
    register_job_resources,
    requeue_stale_jobs,
    unregister_job_resources,
)
from labelops_common.observability import (
    ReadinessCheck,
    ServiceHeaderMiddleware,
    database_check,
    grpc_peer_check,
    observe_database_errors,
)
from labelops_common.queue import JobHandle, handles_in
from labelops_common.settings import CommonSettings, ServiceSettings


@dataclass(frozen=True)
class ServiceJobs:
    """A service's queues and the modules whose tasks consume them.

    Declared as `JOBS` in the service package's top-level `jobs.py`, which imports nothing
    heavy: `labelops worker --queues X` reads every service's declaration to build only the
    services that own X. A service consuming events lists `events` and its handler module.
    """

    queues: tuple[str, ...] = ()
    job_modules: tuple[str, ...] = ()


@dataclass(frozen=True)
class StaleJobSweep:
    """Sends again the jobs of one handle whose message was lost or whose worker died."""

    handle: JobHandle
    database: Database
    queued_grace: timedelta = QUEUED_GRACE

    def __call__(self) -> int:
        return requeue_stale_jobs(
            session_factory=self.database.new_session,
            model=self.handle.job_model,
            enqueue=self.handle.send,
            queued_grace=self.queued_grace,
        )


@dataclass
class ServiceRuntime:
    name: str
    http_app: FastAPI
    database: Database
    migrations_dir: Path
    #: Functions adding this service's servicers to a gRPC server.
    grpc_registrations: Sequence[Callable[[grpc.Server], None]]
    #: Full names of the gRPC services (for health and reflection).
    grpc_service_names: Sequence[str]
    #: The queues this service owns and the modules defining their tasks.
    jobs: ServiceJobs = field(default_factory=ServiceJobs)
    #: Called once the suite is up (e.g. create the admin user); optional.
    on_start: Callable[[], None] | None = None
    #: What this instance's job bodies run with (`provide_job_resources`).
    job_resources: JobResources | None = None
    #: Housekeeping every worker process runs beside the stale-job sweeps (e.g. removing
    #: expired files); each returns how many things it handled and must be safe to run
    #: concurrently in several processes.
    sweeps: list[Callable[[], int]] = field(default_factory=list)

    @property
    def queues(self) -> tuple[str, ...]:
        return self.jobs.queues

    def provide_job_resources(self, resources: JobResources) -> None:
        """Register what this instance's jobs run with; the last built instance serves."""
        self.job_resources = resources
        register_job_resources(resources)

    def close(self) -> None:
        """Stop serving jobs from this process and release the database connections.

        Job resources are a process-wide registry: a runtime that is gone must leave it, or
        its service's event handlers would keep running against its (dropped) database.
        """
        if self.job_resources is not None:
            unregister_job_resources(self.job_resources)
        self.database.engine.dispose()

    def job_handles(self) -> list[JobHandle]:
        """The tasks of this service's job modules (imported here)."""
        for module in self.jobs.job_modules:
            importlib.import_module(module)
        return handles_in(self.jobs.job_modules)

    def stale_job_sweeps(self, *, queued_grace: timedelta = QUEUED_GRACE) -> list[StaleJobSweep]:
        """One sweep per task with a job model; every worker process runs them periodically
        (`StaleJobSweeper`)."""
        return [
            StaleJobSweep(handle=handle, database=self.database, queued_grace=queued_grace)
            for handle in self.job_handles()
            if handle.job_model is not None
        ]

    def periodic_sweeps(self, *, queued_grace: timedelta = QUEUED_GRACE) -> list[Callable[[], int]]:
        """What a worker process runs periodically for this service: its stale-job sweeps,
        then its own `sweeps`."""
        return [*self.stale_job_sweeps(queued_grace=queued_grace), *self.sweeps]


def assemble_service(
    *,
    common: CommonSettings,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    migrations_dir: Path,
    grpc_registrations: Callable[[Database], Sequence[Callable[[grpc.Server], None]]],
    grpc_service_names: Sequence[str],
    jobs: ServiceJobs | None = None,
    peers: Sequence[str] = (),
    legacy_token_resolver: LegacyTokenResolver | None = None,
) -> ServiceRuntime:
    """The common assembly of a service: its database, its HTTP app, its gRPC servicers.

    `peers` are the services whose gRPC health `/readyz` checks. Services other than
    project-svc resolve legacy tokens through project-svc's gRPC, cached briefly. Every
    service keeps an audit log (`labelops_common.audit`): it serves it over gRPC
    (`AuditLog`) and forgets entries older than `audit_retention_days` in a sweep.
    """
    database = Database.from_url(
        settings.resolved_database_url(common), pool_size=settings.database_pool_size
    )
    observe_database_errors(database.engine, service=settings.service_name)
    if legacy_token_resolver is None:
        from labelops_common.auth.remote import remote_legacy_token_resolver

        legacy_token_resolver = remote_legacy_token_resolver(common)
    checks: dict[str, ReadinessCheck] = {"database": database_check(database.engine)}
    for peer in peers:
        checks[peer] = lazy_peer_check(common, peer)
    app = create_service_app(
        service_name=settings.service_name,
        routers=routers,
        secret_key=common.resolved_secret_key(),
        legacy_token_resolver=legacy_token_resolver,
        readiness_checks=checks,
    )
    app.add_middleware(ServiceHeaderMiddleware, service=settings.service_name)
    app.state.database = database
    app.state.settings = settings
    app.state.common_settings = common
    return ServiceRuntime(
        name=settings.service_name,
        http_app=app,
        database=database,
        migrations_dir=migrations_dir,
        grpc_registrations=[*grpc_registrations(database), register_audit_log(database)],
        grpc_service_names=[*grpc_service_names, AUDIT_LOG_SERVICE_NAME],
        jobs=jobs or ServiceJobs(),
        sweeps=[
            AuditRetentionSweep(
                session_factory=database.new_session,
                retention_days=common.audit_retention_days,
            )
        ],
    )


def lazy_peer_check(common: CommonSettings, peer: str) -> ReadinessCheck:
    """Checks the peer's gRPC health at its address as known at check time."""

    def check() -> None:
        grpc_peer_check(common.peer_address(peer))()

    return check

"""What a service hands to the runtime: its HTTP app, gRPC servicers, database, queues.

The `labelops` command assembles these, either all five in one process or one per
process, so a service never knows which mode it runs in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from fastapi import APIRouter, FastAPI

from labelops_common.auth.authenticate import LegacyTokenResolver
from labelops_common.db import Database
from labelops_common.http.app import create_service_app
from labelops_common.observability import (
    ReadinessCheck,
    ServiceHeaderMiddleware,
    database_check,
    grpc_peer_check,
    observe_database_errors,
)
from labelops_common.settings import CommonSettings, ServiceSettings


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
    #: Celery queues whose jobs this service's modules define.
    queues: Sequence[str] = field(default_factory=tuple)
    #: Called once the suite is up (e.g. create the admin user); optional.
    on_start: Callable[[], None] | None = None
    #: Each re-enqueues this service's stale jobs (lost message, dead worker) and returns
    #: how many; every worker process runs them periodically (`StaleJobSweeper`).
    job_sweeps: list[Callable[[], int]] = field(default_factory=list)


def assemble_service(
    *,
    common: CommonSettings,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    migrations_dir: Path,
    grpc_registrations: Callable[[Database], Sequence[Callable[[grpc.Server], None]]],
    grpc_service_names: Sequence[str],
    queues: Sequence[str] = (),
    peers: Sequence[str] = (),
    legacy_token_resolver: LegacyTokenResolver | None = None,
) -> ServiceRuntime:
    """The common assembly of a service: its database, its HTTP app, its gRPC servicers.

    `peers` are the services whose gRPC health `/readyz` checks. Services other than
    project-svc resolve legacy tokens through project-svc's gRPC, cached briefly.
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
        secret_key=common.secret_key.get_secret_value(),
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
        grpc_registrations=grpc_registrations(database),
        grpc_service_names=grpc_service_names,
        queues=queues,
    )


def lazy_peer_check(common: CommonSettings, peer: str) -> ReadinessCheck:
    """Checks the peer's gRPC health at its address as known at check time."""

    def check() -> None:
        grpc_peer_check(common.peer_address(peer))()

    return check

"""Builds project-svc: its HTTP app, gRPC servicers, database and start-up hook."""

from __future__ import annotations

import logging
from pathlib import Path

from labelops_common.auth.principal import Principal
from labelops_common.db import Database, advisory_xact_lock
from labelops_common.outbound import OutboundPolicy
from labelops_common.service import ServiceRuntime, assemble_service
from labelops_common.settings import CommonSettings

from project_svc.accounts import service as accounts
from project_svc.accounts.router import router as accounts_router
from project_svc.audit.router import router as audit_router
from project_svc.audit.rpc import peer_listers
from project_svc.jobs import JOBS, ProjectJobResources
from project_svc.labels.router import router as labels_router
from project_svc.members.router import router as members_router
from project_svc.organizations.router import router as organizations_router
from project_svc.projects.router import router as projects_router
from project_svc.projects.rpc import (
    label_use_counter,
    labels_in_use_fetcher,
    project_overlap_setter,
    project_tasks_deleter,
    register_project_service,
    task_counts_fetcher,
)
from project_svc.settings import AdminBootstrapSettings, Settings
from project_svc.system.router import router as system_router
from project_svc.tokens import service as tokens
from project_svc.tokens.router import router as tokens_router
from project_svc.users import passwords
from project_svc.users.router import router as users_router
from project_svc.webhooks.delivery import WebhookHttp
from project_svc.webhooks.payloads import ProjectPayloads, grpc_task_reader
from project_svc.webhooks.router import router as webhooks_router

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
GRPC_SERVICE_NAMES = ("labelops.project.v1.ProjectService",)


def build_service(common: CommonSettings, settings: Settings | None = None) -> ServiceRuntime:
    settings = settings or Settings()
    # Read now, so a bad LABELOPS_ADMIN_* (a short token) stops the service before it serves.
    admin = AdminBootstrapSettings()
    cost = passwords.ScryptCost(n=settings.password_scrypt_n)
    if common.environment == "production" and cost.n < passwords.RECOMMENDED_COST.n:
        raise ValueError(
            f"LABELOPS_PROJECT_SVC_PASSWORD_SCRYPT_N must be at least "
            f"{passwords.RECOMMENDED_COST.n} when LABELOPS_ENVIRONMENT=production"
        )
    passwords.use_cost(cost)
    secret = common.resolved_secret_key()
    holder: dict[str, Database] = {}

    def resolve_legacy_token(token: str) -> Principal | None:
        with holder["database"].session() as session:
            return tokens.resolve_token(session, token=token, secret=secret)

    runtime = assemble_service(
        common=common,
        settings=settings,
        routers=[
            system_router,
            accounts_router,
            users_router,
            tokens_router,
            organizations_router,
            projects_router,
            members_router,
            webhooks_router,
            labels_router,
            audit_router,
        ],
        migrations_dir=MIGRATIONS_DIR,
        grpc_registrations=lambda database: [
            register_project_service(database=database, common=common)
        ],
        grpc_service_names=GRPC_SERVICE_NAMES,
        jobs=JOBS,
        peers=("task-svc",),
        legacy_token_resolver=resolve_legacy_token,
    )
    database = holder["database"] = runtime.database
    runtime.http_app.state.counts_fetcher = task_counts_fetcher(common)
    runtime.http_app.state.tasks_deleter = project_tasks_deleter(common)
    runtime.http_app.state.overlap_setter = project_overlap_setter(common)
    runtime.http_app.state.audit_peers = peer_listers(common)
    policy = OutboundPolicy(allow_private_networks=common.outbound_allow_private_networks)
    runtime.http_app.state.outbound_policy = policy
    # Job bodies run outside any request: they get this instance's parts.
    runtime.provide_job_resources(
        ProjectJobResources(
            database=database,
            settings=settings,
            secret_key=secret,
            project_payloads=ProjectPayloads(runtime.http_app.state.counts_fetcher),
            read_tasks=grpc_task_reader(common),
            # No redirects: a receiver that moved is told to update the webhook's URL.
            http=WebhookHttp(
                connections=policy.connections(),
                timeout_seconds=settings.webhook_timeout_seconds,
            ),
        )
    )
    runtime.http_app.state.uses_fetcher = labels_in_use_fetcher(common)
    runtime.http_app.state.label_use_counter = label_use_counter(common)

    def bootstrap_admin() -> None:
        if not admin.email:
            return
        with database.session() as session:
            # Every replica runs this at start; one at a time, so only one creates the user.
            advisory_xact_lock(session, accounts.FOUNDING_LOCK)
            accounts.ensure_admin(
                session,
                email=admin.email,
                password=admin.password.get_secret_value() or None,
                legacy_token=admin.token.get_secret_value() or None,
                secret=secret,
                legacy_tokens=settings.legacy_api_tokens_enabled,
            )
            session.commit()
        logger.info("admin user ensured", extra={"email": admin.email})

    runtime.on_start = bootstrap_admin
    return runtime

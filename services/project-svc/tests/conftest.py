"""project-svc test fixtures: the real app on its own PostgreSQL database, rolled back per test.

Project counters come from a real task-svc gRPC server on loopback, as in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from labelops_common.auth.principal import Principal, Role
from labelops_common.grpcutil import build_grpc_server
from labelops_common.service import ServiceRuntime
from labelops_common.settings import CommonSettings
from labelops_testing.databases import migrated_engine, scratch_database_url
from labelops_testing.receivers import WebhookReceiver, webhook_receiver
from project_svc.app import build_service
from project_svc.organizations import service as organizations
from project_svc.settings import Settings
from project_svc.tokens import service as tokens
from project_svc.users import service as users
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session

SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="session")
def secret_key() -> str:
    return SECRET


@pytest.fixture(scope="session")
def task_svc_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real task-svc gRPC server on its own database, for the counters project-svc serves."""
    from task_svc.app import build_service as build_task_service
    from task_svc.settings import Settings as TaskSettings

    with scratch_database_url("task-svc") as url:
        common = CommonSettings(
            data_dir=tmp_path_factory.mktemp("task-svc"), secret_key=SecretStr(SECRET)
        )
        runtime = build_task_service(common, TaskSettings(database_url=url))
        migrated = migrated_engine(
            url=url, script_location=runtime.migrations_dir, service_name="task-svc"
        )
        migrated.dispose()
        handle = build_grpc_server(
            service_name="task-svc",
            bind="127.0.0.1:0",
            register=runtime.grpc_registrations,
            service_full_names=runtime.grpc_service_names,
        )
        handle.start()
        try:
            yield handle.address
        finally:
            handle.stop(grace=0)
            runtime.close()


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    with scratch_database_url("project-svc") as url:
        engine = migrated_engine(
            url=url,
            script_location=Path(__file__).parent.parent / "project_svc" / "migrations",
            service_name="project-svc",
        )
        yield engine
        engine.dispose()


@pytest.fixture(scope="session")
def runtime(
    engine: Engine, task_svc_address: str, tmp_path_factory: pytest.TempPathFactory
) -> ServiceRuntime:
    common = CommonSettings(
        data_dir=tmp_path_factory.mktemp("data"),
        secret_key=SecretStr(SECRET),
        grpc_peers={"task-svc": task_svc_address},
    )
    return build_service(
        common,
        Settings(
            database_url=engine.url.render_as_string(hide_password=False),
            # Test-only: scrypt at 2^14 keeps the many users the tests create fast.
            password_scrypt_n=2**14,
        ),
    )


@pytest.fixture()
def session(runtime: ServiceRuntime, engine: Engine) -> Iterator[Session]:
    """Every session of the app joins this connection's transaction, rolled back after."""
    connection = engine.connect()
    transaction = connection.begin()
    runtime.database.bind_to_connection(connection)
    session = runtime.database.new_session()
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture()
def open_signup(runtime: ServiceRuntime) -> Iterator[None]:
    """`LABELOPS_PROJECT_SVC_ALLOW_SIGNUP=true` for one test (sign-up is closed by default)."""
    settings: Settings = runtime.http_app.state.settings
    runtime.http_app.state.settings = settings.model_copy(update={"allow_signup": True})
    try:
        yield
    finally:
        runtime.http_app.state.settings = settings


@pytest.fixture()
def client(runtime: ServiceRuntime, session: Session) -> Iterator[TestClient]:
    with TestClient(runtime.http_app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class Actor:
    principal: Principal
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


class Factory:
    """Creates organizations and users through the service functions."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.counter = 0

    def organization(self, title: str = "Org") -> int:
        organization = organizations.create_organization(
            self.session, title=title, created_by_id=None, legacy_api_tokens_enabled=True
        )
        return organization.id

    def actor(self, organization_id: int, role: Role, password: str = "correct-horse-9") -> Actor:
        self.counter += 1
        user = users.create_user(
            self.session,
            email=f"user{self.counter}.{role.value}@example.com",
            password=password,
            organization_id=organization_id,
            role=role,
        )
        key = tokens.set_legacy_token(self.session, user_id=user.id, secret=SECRET)
        self.session.commit()
        principal = organizations.principal_for(self.session, user=user)
        assert principal is not None
        return Actor(principal=principal, token=key)


@pytest.fixture()
def factory(session: Session) -> Factory:
    return Factory(session)


@dataclass
class Cast:
    """The permission matrix's actors: two of org A, one of org B."""

    owner: Actor
    annotator: Actor
    outsider: Actor


@pytest.fixture()
def cast(factory: Factory) -> Cast:
    org_a = factory.organization("Org A")
    org_b = factory.organization("Org B")
    return Cast(
        owner=factory.actor(org_a, Role.OWNER),
        annotator=factory.actor(org_a, Role.ANNOTATOR),
        outsider=factory.actor(org_b, Role.OWNER),
    )


@pytest.fixture()
def sent(
    runtime: ServiceRuntime, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[int, float | None]]:
    """Delivery jobs are captured instead of sent (there is no broker in these tests);
    tests run the job bodies themselves. Each item is (delivery id, countdown)."""
    from labelops_common.jobs import register_job_resources
    from project_svc.webhooks import jobs as webhook_jobs

    captured: list[tuple[int, float | None]] = []

    def capture(*args: Any, countdown: float | None = None, **_: Any) -> None:
        captured.append((int(args[0]), countdown))

    monkeypatch.setattr(webhook_jobs.deliver_webhook, "send", capture)
    assert runtime.job_resources is not None
    register_job_resources(runtime.job_resources)
    return captured


@pytest.fixture()
def receiver() -> Iterator[WebhookReceiver]:
    """A real HTTP server on loopback that records the webhooks it receives."""
    with webhook_receiver() as running:
        yield running

"""task-svc test fixtures: the real task-svc and project-svc, wired over loopback gRPC.

task-svc learns projects, tokens and roles from project-svc, so the tests run both, each
with its own PostgreSQL database, exactly as two Deployments would. Rows
are committed for real (the label stream and the counters are tested under concurrency,
which a per-test rolled-back connection cannot show); every test gets fresh
organizations and projects instead, so tests never see each other's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from labelops_common.auth.principal import Role
from labelops_common.grpcutil import GrpcServerHandle, build_grpc_server
from labelops_common.migrations import upgrade_to_head
from labelops_common.service import ServiceRuntime
from labelops_common.settings import CommonSettings
from labelops_runtime.suite import free_loopback_port
from labelops_testing.actors import Actor, create_actor, create_organization
from labelops_testing.databases import scratch_database_url
from project_svc.app import build_service as build_project_service
from project_svc.settings import Settings as ProjectSettings
from pydantic import SecretStr
from task_svc.app import build_service as build_task_service
from task_svc.settings import Settings as TaskSettings

SECRET = "task-svc-test-secret-key-0123456789abcdefghij"

TEXT_CLASSIFICATION = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
</View>
"""


@dataclass
class Stack:
    """Both services, built as `labelops serve --target <svc>` builds them."""

    common: CommonSettings
    task_runtime: ServiceRuntime
    project_runtime: ServiceRuntime
    task: TestClient
    project: TestClient
    grpc_servers: list[GrpcServerHandle]

    @property
    def task_grpc_address(self) -> str:
        return self.common.peer_address("task-svc")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("task-svc")
    with (
        scratch_database_url("task-svc") as task_url,
        scratch_database_url("project-svc") as project_url,
    ):
        common = CommonSettings(
            data_dir=tmp / "data",
            secret_key=SecretStr(SECRET),
            grpc_peers={
                "project-svc": f"127.0.0.1:{free_loopback_port()}",
                "task-svc": f"127.0.0.1:{free_loopback_port()}",
            },
            log_json=False,
        )
        common.data_dir.mkdir(parents=True, exist_ok=True)
        project_runtime = build_project_service(common, ProjectSettings(database_url=project_url))
        task_runtime = build_task_service(common, TaskSettings(database_url=task_url))
        servers = []
        for runtime, url in ((project_runtime, project_url), (task_runtime, task_url)):
            upgrade_to_head(
                script_location=runtime.migrations_dir,
                database_url=url,
                service_name=runtime.name,
            )
            handle = build_grpc_server(
                service_name=runtime.name,
                bind=common.peer_address(runtime.name),
                register=runtime.grpc_registrations,
                service_full_names=runtime.grpc_service_names,
            )
            handle.start()
            servers.append(handle)
        with (
            TestClient(task_runtime.http_app, raise_server_exceptions=False) as task_client,
            TestClient(project_runtime.http_app, raise_server_exceptions=False) as project_client,
        ):
            yield Stack(
                common=common,
                task_runtime=task_runtime,
                project_runtime=project_runtime,
                task=task_client,
                project=project_client,
                grpc_servers=servers,
            )
        for handle in servers:
            handle.stop(grace=0)
        for runtime in (task_runtime, project_runtime):
            runtime.close()


@pytest.fixture()
def client(stack: Stack) -> TestClient:
    return stack.task


@dataclass(frozen=True)
class Cast:
    """The permission matrix's actors: four of one organization, one of another."""

    owner: Actor
    manager: Actor
    annotator: Actor
    annotator2: Actor
    outsider: Actor


def _actor(stack: Stack, organization_id: int, role: Role) -> Actor:
    return create_actor(
        stack.project_runtime.database,
        organization_id=organization_id,
        role=role,
        secret=SECRET,
        email_prefix="",
    )


def _organization(stack: Stack, title: str) -> int:
    return create_organization(stack.project_runtime.database, title)


@pytest.fixture()
def cast(stack: Stack) -> Cast:
    org_a = _organization(stack, "Org A")
    org_b = _organization(stack, "Org B")
    return Cast(
        owner=_actor(stack, org_a, Role.OWNER),
        manager=_actor(stack, org_a, Role.MANAGER),
        annotator=_actor(stack, org_a, Role.ANNOTATOR),
        annotator2=_actor(stack, org_a, Role.ANNOTATOR),
        outsider=_actor(stack, org_b, Role.OWNER),
    )


MakeProject = Callable[..., int]


@pytest.fixture()
def make_project(stack: Stack, cast: Cast) -> MakeProject:
    """Create a project through project-svc's REST API; returns its id."""

    def make(actor: Actor | None = None, *, members: bool = True, **fields: Any) -> int:
        """`members`: admit both annotators (they see only projects they are members of)."""
        body = {"title": "Project", "label_config": TEXT_CLASSIFICATION, **fields}
        creator = actor or cast.owner
        answer = stack.project.post("/api/projects", json=body, headers=creator.headers)
        assert answer.status_code == 201, answer.text
        project_id: int = answer.json()["id"]
        if not members or creator.organization_id != cast.annotator.organization_id:
            return project_id
        for annotator in (cast.annotator, cast.annotator2):
            admitted = stack.project.post(
                f"/api/projects/{project_id}/members/",
                json={"user": annotator.user_id},
                headers=cast.owner.headers,
            )
            assert admitted.status_code == 201, admitted.text
        return project_id

    return make


@pytest.fixture()
def data_dir(stack: Stack) -> Path:
    return stack.common.data_dir

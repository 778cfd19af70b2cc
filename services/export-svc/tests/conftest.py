"""export-svc test fixtures: real project-svc, task-svc and export-svc, wired over loopback gRPC.

export-svc reads projects, tokens and roles from project-svc and tasks from task-svc's
`StreamTasks`, so the tests run all three, each with its own PostgreSQL database,
exactly as three Deployments would. Test data is made through the other
services' REST APIs (projects, imports, annotations); every test gets fresh organizations
and projects, so tests never see each other's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from export_svc.app import build_service as build_export_service
from export_svc.exports import jobs
from export_svc.exports.models import ConvertedFormat, Export
from export_svc.settings import Settings as ExportSettings
from fastapi.testclient import TestClient
from labelops_common.auth.principal import Role
from labelops_common.grpcutil import GrpcServerHandle, build_grpc_server
from labelops_common.jobs import register_job_resources
from labelops_common.migrations import upgrade_to_head
from labelops_common.service import ServiceRuntime
from labelops_common.settings import CommonSettings
from labelops_runtime.suite import free_loopback_port
from labelops_testing.actors import Actor, create_actor, create_organization
from labelops_testing.databases import scratch_database_url
from project_svc.app import build_service as build_project_service
from project_svc.settings import Settings as ProjectSettings
from pydantic import SecretStr
from sqlalchemy import select
from task_svc.app import build_service as build_task_service
from task_svc.settings import Settings as TaskSettings

SECRET = "export-svc-test-secret-key-0123456789abcdefghij"

NER_CONFIG = """
<View>
  <Labels name="label" toName="text">
    <Label value="PER"/>
    <Label value="ORG"/>
    <Label value="LOC"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>
"""

IMAGE_CONFIG = """
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Cat"/>
    <Label value="Dog"/>
  </RectangleLabels>
  <PolygonLabels name="outline" toName="image">
    <Label value="Cat"/>
    <Label value="Dog"/>
  </PolygonLabels>
</View>
"""


@dataclass
class Stack:
    """The three services, built as `labelops serve --target <svc>` builds them."""

    common: CommonSettings
    project_runtime: ServiceRuntime
    task_runtime: ServiceRuntime
    export_runtime: ServiceRuntime
    project: TestClient
    task: TestClient
    export: TestClient
    grpc_servers: list[GrpcServerHandle]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("export-svc")
    with (
        scratch_database_url("project-svc") as project_url,
        scratch_database_url("task-svc") as task_url,
        scratch_database_url("export-svc") as export_url,
    ):
        common = CommonSettings(
            data_dir=tmp / "data",
            secret_key=SecretStr(SECRET),
            grpc_peers={
                name: f"127.0.0.1:{free_loopback_port()}"
                for name in ("project-svc", "task-svc", "export-svc")
            },
            log_json=False,
        )
        common.data_dir.mkdir(parents=True, exist_ok=True)
        project_runtime = build_project_service(common, ProjectSettings(database_url=project_url))
        task_runtime = build_task_service(common, TaskSettings(database_url=task_url))
        # Small batches, so every export crosses several `StreamTasks` messages.
        export_runtime = build_export_service(
            common, ExportSettings(database_url=export_url, stream_batch_size=2)
        )
        servers = []
        for runtime, url in (
            (project_runtime, project_url),
            (task_runtime, task_url),
            (export_runtime, export_url),
        ):
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
            TestClient(project_runtime.http_app, raise_server_exceptions=False) as project_client,
            TestClient(task_runtime.http_app, raise_server_exceptions=False) as task_client,
            TestClient(
                export_runtime.http_app,
                raise_server_exceptions=False,
                client=("127.0.0.1", 50000),  # /metrics answers scrapers on loopback
            ) as export_client,
        ):
            yield Stack(
                common=common,
                project_runtime=project_runtime,
                task_runtime=task_runtime,
                export_runtime=export_runtime,
                project=project_client,
                task=task_client,
                export=export_client,
                grpc_servers=servers,
            )
        for handle in servers:
            handle.stop(grace=0)
        for runtime in (project_runtime, task_runtime, export_runtime):
            runtime.close()


@dataclass(frozen=True)
class Cast:
    """The permission matrix's actors: three of one organization, one of another."""

    owner: Actor
    manager: Actor
    annotator: Actor
    outsider: Actor


def _actor(stack: Stack, organization_id: int, role: Role) -> Actor:
    return create_actor(
        stack.project_runtime.database,
        organization_id=organization_id,
        role=role,
        secret=SECRET,
        email_prefix="export-",
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
        outsider=_actor(stack, org_b, Role.OWNER),
    )


@dataclass
class Seeded:
    """A project with tasks and annotations made through project-svc's and task-svc's APIs."""

    project_id: int
    task_ids: list[int]
    annotation_ids: dict[int, list[int]]


class Seeder:
    def __init__(self, stack: Stack, cast: Cast) -> None:
        self.stack = stack
        self.cast = cast

    def project(self, label_config: str = NER_CONFIG, **fields: Any) -> int:
        body = {"title": "Export", "label_config": label_config, **fields}
        answer = self.stack.project.post(
            "/api/projects", json=body, headers=self.cast.owner.headers
        )
        assert answer.status_code == 201, answer.text
        project_id: int = answer.json()["id"]
        # Annotators see only the projects they are members of.
        admitted = self.stack.project.post(
            f"/api/projects/{project_id}/members/",
            json={"user": self.cast.annotator.user_id},
            headers=self.cast.owner.headers,
        )
        assert admitted.status_code == 201, admitted.text
        return project_id

    def tasks(self, project_id: int, items: list[dict[str, Any]]) -> list[int]:
        answer = self.stack.task.post(
            f"/api/projects/{project_id}/import?return_task_ids=true",
            json=items,
            headers=self.cast.owner.headers,
        )
        assert answer.status_code == 201, answer.text
        task_ids: list[int] = answer.json()["task_ids"]
        return task_ids

    def annotate(
        self, task_id: int, result: list[dict[str, Any]], actor: Actor | None = None, **fields: Any
    ) -> int:
        answer = self.stack.task.post(
            f"/api/tasks/{task_id}/annotations",
            json={"result": result, **fields},
            headers=(actor or self.cast.owner).headers,
        )
        assert answer.status_code == 201, answer.text
        annotation_id: int = answer.json()["id"]
        return annotation_id


@pytest.fixture()
def seeder(stack: Stack, cast: Cast) -> Seeder:
    return Seeder(stack, cast)


def span(start: int, end: int, text: str, label: str) -> dict[str, Any]:
    return {
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "text": text, "labels": [label]},
    }


@pytest.fixture()
def ner_project(seeder: Seeder, cast: Cast) -> Seeded:
    """Three texts: one labelled twice (owner, annotator), one skipped, one untouched."""
    project_id = seeder.project()
    task_ids = seeder.tasks(
        project_id,
        [
            {"text": "Alice works at Acme in Paris"},
            {"text": "Bob from Globex"},
            {"text": "Carol"},
        ],
    )
    first = seeder.annotate(task_ids[0], [span(0, 5, "Alice", "PER"), span(15, 19, "Acme", "ORG")])
    second = seeder.annotate(task_ids[0], [span(23, 28, "Paris", "LOC")], actor=cast.annotator)
    skipped = seeder.annotate(task_ids[1], [], was_cancelled=True)
    return Seeded(
        project_id=project_id,
        task_ids=task_ids,
        annotation_ids={task_ids[0]: [first, second], task_ids[1]: [skipped]},
    )


@pytest.fixture()
def sent(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Job messages are captured instead of sent; tests run the job bodies themselves."""
    captured: list[tuple[str, int]] = []

    for handle in (jobs.write_snapshot, jobs.convert_snapshot):

        def capture(*args: Any, name: str = handle.name, **_: Any) -> None:
            captured.append((name, int(args[0])))

        monkeypatch.setattr(handle, "send", capture)
    assert stack.export_runtime.job_resources is not None
    register_job_resources(stack.export_runtime.job_resources)
    return captured


class Db:
    """Reads export-svc's tables straight, for asserting state after requests."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def exports(self, project_id: int) -> list[Export]:
        with self.stack.export_runtime.database.session() as session:
            return list(
                session.scalars(
                    select(Export).where(Export.project_id == project_id).order_by(Export.id)
                )
            )

    def conversions(self, export_id: int) -> list[ConvertedFormat]:
        with self.stack.export_runtime.database.session() as session:
            return list(
                session.scalars(
                    select(ConvertedFormat)
                    .where(ConvertedFormat.export_id == export_id)
                    .order_by(ConvertedFormat.id)
                )
            )

    def artifact(self, key: str) -> Path:
        storage = self.stack.export_runtime.http_app.state.artifact_storage
        path: Path = storage.path(key)
        return path


@pytest.fixture()
def db(stack: Stack) -> Db:
    return Db(stack)

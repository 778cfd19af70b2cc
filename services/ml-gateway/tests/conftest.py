"""ml-gateway test fixtures: real project-svc, task-svc and ml-gateway wired over loopback
gRPC, and real HTTP servers speaking the ML-backend protocol.

Each service has its own PostgreSQL database, as three Deployments would. Prediction jobs
run as they do without a broker (a thread per job, on the real `run_job` with its lease),
so tests wait for a job's row to finish, as a client polling its progress would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from labelops_common.auth.principal import Role
from labelops_common.grpcutil import GrpcServerHandle, build_grpc_server
from labelops_common.jobs import register_job_resources
from labelops_common.jobs.models import FINISHED
from labelops_common.migrations import upgrade_to_head
from labelops_common.outbound import OutboundPolicy
from labelops_common.service import ServiceRuntime
from labelops_common.settings import CommonSettings
from labelops_runtime.suite import free_loopback_port
from labelops_testing.actors import Actor, create_actor, create_organization
from labelops_testing.databases import scratch_database_url
from labelops_testing.ml_backend import ProtocolBackend, running_backend
from ml_gateway.app import build_service as build_ml_gateway
from ml_gateway.backends.models import MLBackend
from ml_gateway.predictions.models import PredictionJob
from ml_gateway.settings import Settings as MLSettings
from project_svc.app import build_service as build_project_service
from project_svc.settings import Settings as ProjectSettings
from pydantic import SecretStr
from sqlalchemy import select
from task_svc.app import build_service as build_task_service
from task_svc.predictions.models import Prediction
from task_svc.settings import Settings as TaskSettings

SECRET = "ml-gateway-test-secret-key-0123456789abcdefghij"

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>"""


@dataclass
class Stack:
    common: CommonSettings
    project_runtime: ServiceRuntime
    task_runtime: ServiceRuntime
    ml_runtime: ServiceRuntime
    project: TestClient
    task: TestClient
    ml: TestClient
    grpc_servers: list[GrpcServerHandle]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("ml-gateway")
    with (
        scratch_database_url("project-svc") as project_url,
        scratch_database_url("task-svc") as task_url,
        scratch_database_url("ml-gateway") as ml_url,
    ):
        common = CommonSettings(
            data_dir=tmp / "data",
            secret_key=SecretStr(SECRET),
            grpc_peers={
                name: f"127.0.0.1:{free_loopback_port()}"
                # storage-sync: a free port nothing listens on, unless a test serves it.
                for name in ("project-svc", "task-svc", "ml-gateway", "storage-sync")
            },
            log_json=False,
        )
        common.data_dir.mkdir(parents=True, exist_ok=True)
        project_runtime = build_project_service(common, ProjectSettings(database_url=project_url))
        task_runtime = build_task_service(
            common, TaskSettings(database_url=task_url, prelabel_timeout_seconds=2.0)
        )
        ml_runtime = build_ml_gateway(
            common,
            MLSettings(
                database_url=ml_url,
                predict_batch_size=2,
                predict_attempts=2,
                retry_backoff_seconds=0.05,
                breaker_failure_threshold=3,
                breaker_reset_seconds=60,
                interactive_timeout_seconds=1.0,
            ),
            # The backends of these tests listen on loopback.
            policy=OutboundPolicy(allow_private_networks=True),
        )
        servers = []
        for runtime, url in (
            (project_runtime, project_url),
            (task_runtime, task_url),
            (ml_runtime, ml_url),
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
            TestClient(ml_runtime.http_app, raise_server_exceptions=False) as ml_client,
        ):
            yield Stack(
                common=common,
                project_runtime=project_runtime,
                task_runtime=task_runtime,
                ml_runtime=ml_runtime,
                project=project_client,
                task=task_client,
                ml=ml_client,
                grpc_servers=servers,
            )
        for handle in servers:
            handle.stop(grace=0)
        for runtime in (project_runtime, task_runtime, ml_runtime):
            runtime.close()


@dataclass(frozen=True)
class Cast:
    owner: Actor
    manager: Actor
    annotator: Actor
    outsider: Actor


@pytest.fixture()
def cast(stack: Stack) -> Cast:
    database = stack.project_runtime.database
    org_a = create_organization(database, "Org A")
    org_b = create_organization(database, "Org B")

    def actor(organization_id: int, role: Role) -> Actor:
        return create_actor(
            database, organization_id=organization_id, role=role, secret=SECRET, email_prefix="ml-"
        )

    return Cast(
        owner=actor(org_a, Role.OWNER),
        manager=actor(org_a, Role.MANAGER),
        annotator=actor(org_a, Role.ANNOTATOR),
        outsider=actor(org_b, Role.OWNER),
    )


@pytest.fixture()
def backend() -> Iterator[ProtocolBackend]:
    with running_backend() as server:
        yield server


class World:
    """A project with tasks, made through the services' REST APIs, and helpers to drive
    ml-gateway and read every service's state."""

    def __init__(self, stack: Stack, cast: Cast) -> None:
        self.stack = stack
        self.cast = cast
        # Job bodies run with this stack's resources (other test modules build their own).
        assert stack.ml_runtime.job_resources is not None
        register_job_resources(stack.ml_runtime.job_resources)
        answer = stack.project.post(
            "/api/projects",
            json={"title": "Sentiment", "label_config": CONFIG},
            headers=cast.owner.headers,
        )
        assert answer.status_code == 201, answer.text
        self.project: int = answer.json()["id"]
        # Annotators see only the projects they are members of.
        member = stack.project.post(
            f"/api/projects/{self.project}/members/",
            json={"user": cast.annotator.user_id},
            headers=cast.owner.headers,
        )
        assert member.status_code == 201, member.text

    def tasks(self, *texts: str) -> list[int]:
        answer = self.stack.task.post(
            f"/api/projects/{self.project}/import?return_task_ids=true",
            json=[{"text": text} for text in texts],
            headers=self.cast.owner.headers,
        )
        assert answer.status_code == 201, answer.text
        task_ids: list[int] = answer.json()["task_ids"]
        return task_ids

    def tasks_with(self, *items: dict[str, Any]) -> list[int]:
        answer = self.stack.task.post(
            f"/api/projects/{self.project}/import?return_task_ids=true",
            json=list(items),
            headers=self.cast.owner.headers,
        )
        assert answer.status_code == 201, answer.text
        task_ids: list[int] = answer.json()["task_ids"]
        return task_ids

    def connect(self, server: ProtocolBackend, **fields: Any) -> dict[str, Any]:
        answer = self.stack.ml.post(
            "/api/ml",
            json={"url": server.url, "project": self.project, "title": "keywords", **fields},
            headers=self.cast.owner.headers,
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def retrieve(self, selected: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.stack.task.post(
            f"/api/dm/actions?project={self.project}&id=retrieve_tasks_predictions",
            json={"selectedItems": selected or {"all": True, "excluded": []}},
            headers=self.cast.owner.headers,
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def wait_job(self, job_id: int, timeout: float = 30.0) -> PredictionJob:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.stack.ml_runtime.database.session() as session:
                job = session.get(PredictionJob, job_id)
                assert job is not None
                if job.status in {status.value for status in FINISHED}:
                    session.expunge(job)
                    return job
            time.sleep(0.05)
        raise AssertionError(f"prediction job {job_id} did not finish in {timeout} s")

    def predictions(self) -> list[Prediction]:
        with self.stack.task_runtime.database.session() as session:
            return list(
                session.scalars(
                    select(Prediction)
                    .where(Prediction.project_id == self.project)
                    .order_by(Prediction.task_id, Prediction.id)
                )
            )

    def backend_row(self, backend_id: int) -> MLBackend:
        with self.stack.ml_runtime.database.session() as session:
            row = session.get(MLBackend, backend_id)
            assert row is not None
            session.expunge(row)
            return row


@pytest.fixture()
def world(stack: Stack, cast: Cast) -> World:
    return World(stack, cast)

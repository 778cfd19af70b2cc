"""storage-sync test fixtures: real project-svc, task-svc and storage-sync over loopback gRPC,
and real storages: moto's S3 server, fake-gcs-server, Azurite, the test Redis, files on disk.

Every service has its own PostgreSQL database, as three Deployments would. Syncs are
queued jobs: `sent` captures their messages and tests run the bodies (`run_sync`), as a
worker would. Each test makes its own organizations, projects and buckets.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from labelops_common.auth.principal import Role
from labelops_common.grpcutil import GrpcServerHandle, build_grpc_server
from labelops_common.jobs import register_job_resources
from labelops_common.migrations import upgrade_to_head
from labelops_common.outbound import OutboundPolicy
from labelops_common.service import ServiceRuntime
from labelops_common.settings import CommonSettings
from labelops_runtime.suite import free_loopback_port
from labelops_testing import emulators
from labelops_testing.actors import Actor, create_actor, create_organization
from labelops_testing.databases import scratch_database_url
from project_svc.app import build_service as build_project_service
from project_svc.settings import Settings as ProjectSettings
from pydantic import SecretStr
from sqlalchemy import select
from storage_sync.app import build_service as build_storage_service
from storage_sync.backends import ConnectContext
from storage_sync.settings import Settings as StorageSettings
from storage_sync.storages.models import ImportedObject, Storage, SyncJob
from storage_sync.sync import jobs
from task_svc.app import build_service as build_task_service
from task_svc.settings import Settings as TaskSettings

SECRET = "storage-sync-test-secret-key-0123456789abcdef"
S3_ACCESS_KEY = "AKIASTORAGESYNCTEST1"
S3_SECRET_KEY = "storage-sync-test-secret-0123456789abcdef"
#: Azurite's package lock, shared with the artifact-store tests.
AZURITE_DIR = (
    Path(__file__).resolve().parents[3]
    / "libs"
    / "labelops-common"
    / "tests"
    / "artifacts"
    / "emulators"
)

IMAGE_CONFIG = """
<View>
  <Image name="image" value="$image"/>
  <Choices name="choice" toName="image">
    <Choice value="cat"/>
    <Choice value="dog"/>
  </Choices>
</View>
"""

TEXT_CONFIG = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="choice" toName="text">
    <Choice value="good"/>
    <Choice value="bad"/>
  </Choices>
</View>
"""


@dataclass
class Stack:
    common: CommonSettings
    project_runtime: ServiceRuntime
    task_runtime: ServiceRuntime
    storage_runtime: ServiceRuntime
    project: TestClient
    task: TestClient
    storage: TestClient
    grpc_servers: list[GrpcServerHandle]
    document_root: Path
    storage_url: str


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("storage-sync")
    document_root = tmp / "documents"
    document_root.mkdir()
    with (
        scratch_database_url("project-svc") as project_url,
        scratch_database_url("task-svc") as task_url,
        scratch_database_url("storage-sync") as storage_url,
    ):
        common = CommonSettings(
            data_dir=tmp / "data",
            secret_key=SecretStr(SECRET),
            grpc_peers={
                name: f"127.0.0.1:{free_loopback_port()}"
                for name in ("project-svc", "task-svc", "storage-sync")
            },
            log_json=False,
        )
        common.data_dir.mkdir(parents=True, exist_ok=True)
        project_runtime = build_project_service(common, ProjectSettings(database_url=project_url))
        task_runtime = build_task_service(common, TaskSettings(database_url=task_url))
        # Emulators listen on loopback: the tests allow private networks explicitly.
        storage_runtime = build_storage_service(
            common,
            StorageSettings(
                database_url=storage_url,
                local_files_document_root=document_root,
                task_batch_size=7,
                listing_page_size=5,
            ),
            context=ConnectContext(
                policy=OutboundPolicy(allow_private_networks=True), document_root=document_root
            ),
        )
        servers = []
        for runtime, url in (
            (project_runtime, project_url),
            (task_runtime, task_url),
            (storage_runtime, storage_url),
        ):
            upgrade_to_head(
                script_location=runtime.migrations_dir, database_url=url, service_name=runtime.name
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
            TestClient(storage_runtime.http_app, raise_server_exceptions=False) as storage_client,
        ):
            yield Stack(
                common=common,
                project_runtime=project_runtime,
                task_runtime=task_runtime,
                storage_runtime=storage_runtime,
                project=project_client,
                task=task_client,
                storage=storage_client,
                grpc_servers=servers,
                document_root=document_root,
                storage_url=storage_url,
            )
        for handle in servers:
            handle.stop(grace=0)
        for runtime in (project_runtime, task_runtime, storage_runtime):
            runtime.close()


@dataclass(frozen=True)
class Cast:
    owner: Actor
    annotator: Actor
    outsider: Actor


@pytest.fixture()
def cast(stack: Stack) -> Cast:
    database = stack.project_runtime.database
    org_a = create_organization(database, "Org A")
    org_b = create_organization(database, "Org B")

    def actor(organization_id: int, role: Role) -> Actor:
        return create_actor(
            database,
            organization_id=organization_id,
            role=role,
            secret=SECRET,
            email_prefix="storage-",
        )

    return Cast(
        owner=actor(org_a, Role.OWNER),
        annotator=actor(org_a, Role.ANNOTATOR),
        outsider=actor(org_b, Role.OWNER),
    )


@pytest.fixture()
def sent(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sync messages are captured instead of sent; tests run the job bodies themselves."""
    captured: list[int] = []

    def capture(*args: Any, **_: Any) -> None:
        captured.append(int(args[0]))

    monkeypatch.setattr(jobs.sync_storage, "send", capture)
    assert stack.storage_runtime.job_resources is not None
    register_job_resources(stack.storage_runtime.job_resources)
    return captured


class Api:
    """The REST calls tests make, as the owner unless told otherwise."""

    def __init__(self, stack: Stack, cast: Cast, sent: list[int]) -> None:
        self.stack = stack
        self.cast = cast
        self.sent = sent

    def project(self, label_config: str = IMAGE_CONFIG) -> int:
        answer = self.stack.project.post(
            "/api/projects",
            json={"title": "Storage", "label_config": label_config},
            headers=self.cast.owner.headers,
        )
        assert answer.status_code == 201, answer.text
        project_id: int = answer.json()["id"]
        return project_id

    def create(
        self, kind: str, body: dict[str, Any], *, export: bool = False, actor: Actor | None = None
    ) -> Any:
        base = "/api/storages/export" if export else "/api/storages"
        return self.stack.storage.post(
            f"{base}/{kind}/", json=body, headers=(actor or self.cast.owner).headers
        )

    def sync(self, kind: str, storage_id: int, *, export: bool = False) -> dict[str, Any]:
        """Ask for a sync and run every job it queued, as a worker would."""
        base = "/api/storages/export" if export else "/api/storages"
        answer = self.stack.storage.post(
            f"{base}/{kind}/{storage_id}/sync", headers=self.cast.owner.headers
        )
        assert answer.status_code == 200, answer.text
        while self.sent:
            jobs.sync_storage.run(self.sent.pop(0))
        again = self.stack.storage.get(
            f"{base}/{kind}/{storage_id}", headers=self.cast.owner.headers
        )
        assert again.status_code == 200, again.text
        body: dict[str, Any] = again.json()
        return body

    def tasks(self, project_id: int) -> list[dict[str, Any]]:
        answer = self.stack.task.get(
            f"/api/tasks?project={project_id}&page_size=100000",
            headers=self.cast.owner.headers,
        )
        assert answer.status_code == 200, answer.text
        tasks: list[dict[str, Any]] = answer.json()["tasks"]
        return tasks


@pytest.fixture()
def api(stack: Stack, cast: Cast, sent: list[int]) -> Api:
    return Api(stack, cast, sent)


class Db:
    """storage-sync's tables read straight, to assert state after requests."""

    def __init__(self, stack: Stack) -> None:
        self.database = stack.storage_runtime.database

    def storages(self, project_id: int) -> list[Storage]:
        with self.database.session() as session:
            return list(session.scalars(select(Storage).where(Storage.project_id == project_id)))

    def imported(self, storage_id: int) -> list[str]:
        with self.database.session() as session:
            return sorted(
                session.scalars(
                    select(ImportedObject.object_key).where(ImportedObject.storage_id == storage_id)
                )
            )

    def jobs(self, storage_id: int) -> list[SyncJob]:
        with self.database.session() as session:
            return list(session.scalars(select(SyncJob).where(SyncJob.storage_id == storage_id)))


@pytest.fixture()
def db(stack: Stack) -> Db:
    return Db(stack)


# ------------------------------------------------------------------ storages (emulators)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulators.moto_s3(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture()
def s3(s3_endpoint: str) -> Any:
    return emulators.moto_s3_client(s3_endpoint, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY)


@pytest.fixture()
def bucket(s3: Any) -> str:
    name = f"bucket-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def s3_body(project_id: int, endpoint: str, bucket: str, **fields: Any) -> dict[str, Any]:
    return {
        "project": project_id,
        "title": "Images",
        "bucket": bucket,
        "s3_endpoint": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": S3_ACCESS_KEY,
        "aws_secret_access_key": S3_SECRET_KEY,
        **fields,
    }


@pytest.fixture(scope="session")
def gcs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulators.fake_gcs(tmp_path_factory.mktemp("gcs")) as endpoint:
        previous = os.environ.get("STORAGE_EMULATOR_HOST")
        os.environ["STORAGE_EMULATOR_HOST"] = endpoint
        yield endpoint
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous


@pytest.fixture(scope="session")
def azure_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulators.azurite_blob(
        tmp_path_factory.mktemp("azurite"), package_dir=AZURITE_DIR
    ) as endpoint:
        yield endpoint


def service_account_json() -> str:
    """A service-account key made here: it signs V4 URLs offline."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "test",
            "private_key_id": "storage-sync-test",
            "private_key": pem,
            "client_email": "sync@test.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )


REDIS_PASSWORD = "redis-test-password-0123456789"


@pytest.fixture(scope="module")
def redis_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    with emulators.redis_server(
        tmp_path_factory.mktemp("redis"), password=REDIS_PASSWORD
    ) as target:
        yield target

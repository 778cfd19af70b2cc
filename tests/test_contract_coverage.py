"""Every row of Label Studio's endpoint table is served, or allow-listed under its open issue.

`scripts/contract_coverage.py` reads `../shared/contract/endpoints.md` and asks a running
single-process LabelOps for each row with ids that exist. It runs against a server of its
own here: the check resets its caller's token and deletes what it made. The storages, the
ML backend and the webhook it makes are real: moto's S3, fake-gcs-server, Azurite, a Redis
server, a directory under the local-files root, a protocol ML backend and a webhook
receiver, all on loopback, started once for the module and handed over as `--fixtures`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from azure.storage.blob import BlobServiceClient
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage as gcs_storage
from labelops_runtime.suite import free_loopback_port
from labelops_testing import emulators
from labelops_testing.ml_backend import ProtocolBackend, running_backend
from labelops_testing.receivers import WebhookReceiver, webhook_receiver

from .conftest import (  # type: ignore[import-not-found]
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ADMIN_TOKEN,
    SECRET,
    RunningProcess,
    service_databases,
    start_labelops,
    stop,
)
from .edge.loader import REPO, load

coverage = load("labelops_contract_coverage", REPO / "scripts" / "contract_coverage.py")

S3_ACCESS_KEY = "AKIACONTRACTCOVERAGE"
S3_SECRET_KEY = "contract-coverage-secret-0123456789abcdef"
REDIS_PASSWORD = "contract-coverage-redis-0123456789"
#: Azurite's package lock, shared with the artifact-store and storage-sync tests.
AZURITE_DIR = REPO / "libs" / "labelops-common" / "tests" / "artifacts" / "emulators"
#: What each import storage holds: one JSON task (Label Studio reads a JSON object as a task).
TASK = json.dumps({"text": "from a storage"})


@dataclass
class Outside:
    """The things outside LabelOps the storage, ML-backend and webhook rows need."""

    #: `--fixtures` of the script.
    fixtures_file: Path
    #: What the server must be started with to reach them.
    env: dict[str, str]
    backend: ProtocolBackend
    receiver: WebhookReceiver


def _storage_fields(tmp: Path, stack: ExitStack) -> tuple[dict[str, Any], dict[str, str]]:
    """Each storage type's emulator started, a bucket (or its like) made with one task under
    `import/`, and the fields of an import and an export storage on it."""
    s3_endpoint = stack.enter_context(emulators.moto_s3(tmp / "moto"))
    s3 = emulators.moto_s3_client(s3_endpoint, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY)
    s3.create_bucket(Bucket="coverage")
    s3.put_object(Bucket="coverage", Key="import/task.json", Body=TASK.encode())
    s3_fields = {
        "bucket": "coverage",
        "s3_endpoint": s3_endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": S3_ACCESS_KEY,
        "aws_secret_access_key": S3_SECRET_KEY,
    }

    gcs_endpoint = stack.enter_context(emulators.fake_gcs(tmp / "gcs"))
    gcs = gcs_storage.Client(
        project="coverage",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": gcs_endpoint},
    )
    gcs.create_bucket("coverage").blob("import/task.json").upload_from_string(TASK)
    gcs_fields = {"bucket": "coverage", "google_project_id": "coverage"}

    azure_endpoint = stack.enter_context(
        emulators.azurite_blob(tmp / "azurite", package_dir=AZURITE_DIR)
    )
    connection_string = emulators.azurite_connection_string(azure_endpoint)
    container = BlobServiceClient.from_connection_string(connection_string).create_container(
        "coverage"
    )
    container.upload_blob("import/task.json", TASK)
    azure_fields = {"container": "coverage", "connection_string": connection_string}

    host, port = stack.enter_context(emulators.redis_server(tmp / "redis", password=REDIS_PASSWORD))
    with redis.Redis(host=host, port=port, db=1, password=REDIS_PASSWORD) as client:
        client.set("import/task.json", TASK)
    redis_fields = {"host": host, "port": port, "db": 1, "password": REDIS_PASSWORD}

    root = tmp / "local-files"
    (root / "import").mkdir(parents=True)
    (root / "export").mkdir()
    (root / "import" / "task.json").write_text(TASK)

    prefixed = {"s3": s3_fields, "gcs": gcs_fields, "azure": azure_fields}
    storages: dict[str, Any] = {
        kind: {
            "import": {**fields, "prefix": "import"},
            "export": {**fields, "prefix": "export"},
        }
        for kind, fields in prefixed.items()
    }
    storages["redis"] = {
        "import": {**redis_fields, "path": "import"},
        "export": {**redis_fields, "path": "export"},
    }
    storages["localfiles"] = {
        "import": {"path": str(root / "import")},
        "export": {"path": str(root / "export")},
    }
    env = {
        "STORAGE_EMULATOR_HOST": gcs_endpoint,
        "LABELOPS_STORAGE_SYNC_LOCAL_FILES_DOCUMENT_ROOT": str(root),
    }
    return storages, env


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outside]:
    tmp = tmp_path_factory.mktemp("coverage-outside")
    with ExitStack() as stack:
        storages, env = _storage_fields(tmp, stack)
        backend = stack.enter_context(running_backend())
        receiver = stack.enter_context(webhook_receiver())
        fixtures_file = tmp / "fixtures.json"
        fixtures_file.write_text(
            json.dumps(
                {"storages": storages, "ml_backend_url": backend.url, "webhook_url": receiver.url}
            )
        )
        yield Outside(fixtures_file=fixtures_file, env=env, backend=backend, receiver=receiver)


@pytest.fixture(scope="module")
def own_suite(
    tmp_path_factory: pytest.TempPathFactory, outside: Outside
) -> Iterator[RunningProcess]:
    """The single process, importing through its queue (a 1-byte inline limit), so every
    import has an import object the `imports/{pk}` and `reimports/{pk}` rows can read; it
    reaches the emulators, the ML backend and the receiver on loopback."""
    from labelops_testing.databases import embedded_data_dir

    tmp = tmp_path_factory.mktemp("coverage")
    port = free_loopback_port()
    env = {
        "LABELOPS_PORT": str(port),
        "LABELOPS_SECRET_KEY": SECRET,
        "LABELOPS_ADMIN_EMAIL": ADMIN_EMAIL,
        "LABELOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LABELOPS_ADMIN_TOKEN": ADMIN_TOKEN,
        "LABELOPS_TASK_SVC_IMPORT_SYNC_MAX_BYTES": "1",
        "LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
        **outside.env,
    }
    with embedded_data_dir() as data_dir, service_databases() as urls:
        env.update(urls, LABELOPS_DATA_DIR=str(data_dir))
        running = start_labelops(["serve", "--target", "all"], env, tmp / "labelops.log", port)
        yield running
        stop(running)


def test_the_table_is_read_whole() -> None:
    rows = coverage.read_rows()
    assert len(rows) == 190
    assert coverage.Row("GET", "/api/labels/") in rows
    assert coverage.Row("PATCH", "/api/import/file-upload/{id}") in rows
    assert len(set(rows)) == len(rows)


def test_every_allowed_row_is_a_row_of_the_table_owned_by_another_issue() -> None:
    rows = set(coverage.read_rows())
    allowed = coverage.read_allowed()
    assert set(allowed) <= rows, sorted(map(str, set(allowed) - rows))
    owners = set(allowed.values())
    # Every row is served now; a row listed again needs the heading of an issue still open.
    assert owners == set(), owners


def test_an_allow_list_row_needs_its_issue(tmp_path: Path) -> None:
    listed = tmp_path / "allowed.txt"
    listed.write_text("GET /api/ml/\n")
    with pytest.raises(ValueError, match="before any"):
        coverage.read_allowed(listed)


def test_connection_rows_get_the_ids_of_their_own_objects() -> None:
    ids = coverage.Ids(
        {
            "project": 1,
            "storage:import:s3": 11,
            "doomed_storage:import:s3": 12,
            "storage:export:s3": 21,
            "doomed_storage:export:s3": 22,
            "storage:export:localfiles": 31,
            "ml_backend": 3,
            "doomed_ml_backend": 4,
            "webhook": 5,
            "doomed_webhook": 6,
        }
    )

    def resolved(method: str, path: str) -> str:
        return str(coverage.resolve_path(coverage.Row(method, path), ids))

    assert resolved("GET", "/api/storages/s3/{id}") == "/api/storages/s3/11"
    assert resolved("POST", "/api/storages/s3/{id}/sync") == "/api/storages/s3/11/sync"
    assert resolved("DELETE", "/api/storages/s3/{id}") == "/api/storages/s3/12"
    assert resolved("PATCH", "/api/storages/export/s3/{id}") == "/api/storages/export/s3/21"
    assert resolved("DELETE", "/api/storages/export/s3/{id}") == "/api/storages/export/s3/22"
    assert (
        resolved("POST", "/api/storages/export/localfiles/{id}/sync")
        == "/api/storages/export/localfiles/31/sync"
    )
    assert resolved("GET", "/api/ml/{id}/versions") == "/api/ml/3/versions"
    assert resolved("DELETE", "/api/ml/{id}") == "/api/ml/4"
    assert resolved("PUT", "/api/webhooks/{id}/") == "/api/webhooks/5/"
    assert resolved("DELETE", "/api/webhooks/{id}/") == "/api/webhooks/6/"
    listing = coverage.build_request(coverage.Row("GET", "/api/storages/export/redis"), ids)
    assert listing == {"params": {"project": 1}}


def test_fixtures_name_known_types_with_both_directions(tmp_path: Path) -> None:
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps({"storages": {"ftp": {"import": {}, "export": {}}}}))
    with pytest.raises(ValueError, match="unknown types"):
        coverage.Fixtures.read(path)
    path.write_text(json.dumps({"storages": {"s3": {"import": {"bucket": "b"}}}}))
    with pytest.raises(ValueError, match="'import' and 'export'"):
        coverage.Fixtures.read(path)
    path.write_text(json.dumps({"webhook_url": "http://127.0.0.1:1/hook"}))
    assert coverage.Fixtures.read(path) == coverage.Fixtures(webhook_url="http://127.0.0.1:1/hook")


def test_every_row_is_served_or_allowed(own_suite: RunningProcess, outside: Outside) -> None:
    client = coverage.Client(own_suite.base_url, ADMIN_TOKEN)
    fixtures = coverage.Fixtures.read(outside.fixtures_file)
    report = coverage.check(client, coverage.read_rows(), coverage.read_allowed(), fixtures)
    print(report.summary())
    assert [str(o.row) for o in report.missing] == [], report.summary()
    assert [f"{o.status} {o.row}" for o in report.failing] == []
    assert len(report.served) + len(report.allowed) == 190
    # The rows of the objects made from the fixtures do what they ask, on those objects.
    connections = [
        f"{o.status} {o.row}"
        for o in report.outcomes
        if o.row.path.startswith(("/api/storages", "/api/ml/", "/api/webhooks/"))
        and not o.status < 300
    ]
    assert connections == []
    # And they reached the outside: the storages synced (each import storage's one task), the
    # backend was asked for predictions, the receiver got the project's events.
    assert report.ids is not None
    for kind in coverage.STORAGE_TYPES:
        for direction in (coverage.IMPORT, coverage.EXPORT):
            storage = synced_storage(
                client,
                report.ids.values[f"storage:{direction}:{kind}"],
                kind=kind,
                direction=direction,
            )
            assert storage["status"] == "completed", storage
            if direction == coverage.IMPORT:
                assert storage["last_sync_count"] == 1, storage
    assert len(outside.backend.calls("/predict")) >= 2
    delivered = outside.receiver.wait_for(1, timeout=60)
    assert all("action" in request.json() for request in delivered)


def synced_storage(client: Any, storage_id: int, *, kind: str, direction: str) -> Any:
    """The storage once its sync (queued by the sync row) has finished."""
    path = coverage.storage_base(direction, kind).rstrip("/") + f"/{storage_id}"
    deadline = time.monotonic() + 60
    while True:
        storage = client.created("GET", path)
        if storage["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return storage
        time.sleep(0.2)

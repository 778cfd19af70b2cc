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
from labelops_testing.ml_backend import running_backend
from labelops_testing.receivers import webhook_receiver

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
        yield Outside(fixtures_file=fixtures_file, env=env)


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
    assert owners <= {
        # Still open in this issue's part 2: the report names it; the issue cannot close.
        "issue 19: Webhooks, and every remaining row of the Label Studio contract (part 2, "
        "not built yet: Label Studio's finite-state machine, task/annotation/project states "
        "and their manual transitions)",
    }, owners


def test_an_allow_list_row_needs_its_issue(tmp_path: Path) -> None:
    listed = tmp_path / "allowed.txt"
    listed.write_text("GET /api/ml/\n")
    with pytest.raises(ValueError, match="before any"):
        coverage.read_allowed(listed)


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

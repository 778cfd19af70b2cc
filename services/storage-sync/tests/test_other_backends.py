"""GCS (fake-gcs-server), Azure Blob (Azurite) and Redis storages: validate with good and bad
credentials, a missing bucket, import sync, re-sync, export, and presigned URLs fetched back."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest
import redis
from azure.storage.blob import BlobServiceClient
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage as gcs_storage
from labelops_testing import emulators

from .conftest import REDIS_PASSWORD, TEXT_CONFIG, Api, Db, Stack, service_account_json


def resolve(api: Api, task: dict[str, Any], field: str) -> httpx.Response:
    fileuri = base64.urlsafe_b64encode(task["data"][field].encode()).decode()
    return api.stack.storage.get(
        f"/tasks/{task['id']}/resolve/?fileuri={fileuri}",
        headers=api.cast.owner.headers,
        follow_redirects=False,
    )


# ------------------------------------------------------------------------------------ GCS


@pytest.fixture()
def gcs_bucket(gcs_endpoint: str) -> str:
    name = f"bucket-{uuid.uuid4().hex[:12]}"
    gcs_storage.Client(project="test", credentials=AnonymousCredentials()).create_bucket(name)
    return name


def test_gcs_validate_sync_resync_and_presign(
    api: Api, db: Db, gcs_endpoint: str, gcs_bucket: str
) -> None:
    client = gcs_storage.Client(project="test", credentials=AnonymousCredentials())
    bucket = client.bucket(gcs_bucket)
    for name in ("media/a.jpg", "media/b.jpg", "media/skip.txt"):
        bucket.blob(name).upload_from_string(name.encode())
    project_id = api.project()
    body = {
        "project": project_id,
        "bucket": gcs_bucket,
        "prefix": "media",
        "use_blob_urls": True,
        "regex_filter": r".*\.jpg$",
        "google_application_credentials": service_account_json(),
    }
    not_a_key = api.create("gcs", {**body, "google_application_credentials": '{"type": "user"}'})
    assert not_a_key.status_code == 400
    assert "google_application_credentials" in not_a_key.json()["validation_errors"]
    missing = api.create("gcs", {**body, "bucket": "no-such-bucket-here"})
    assert missing.status_code == 400
    assert "google_application_credentials" in missing.json()["validation_errors"] or (
        "bucket" in missing.json()["validation_errors"]
    )
    assert db.storages(project_id) == []
    created = api.create("gcs", body)
    assert created.status_code == 201, created.text
    assert created.json()["google_application_credentials"] == "********"
    storage_id = created.json()["id"]
    synced = api.sync("gcs", storage_id)
    assert synced["status"] == "completed", synced
    assert synced["last_sync_count"] == 2
    # After the checkpoint (`media/skip.txt`, the last key listed): found by the next sync.
    bucket.blob("media/z.jpg").upload_from_string(b"media/z.jpg")
    again = api.sync("gcs", storage_id)
    assert again["last_sync_count"] == 1
    assert again["meta"]["objects_listed"] == 1
    tasks = sorted(api.tasks(project_id), key=lambda task: task["data"]["image"])
    assert [task["data"]["image"] for task in tasks] == [
        f"gs://{gcs_bucket}/media/{name}" for name in ("a.jpg", "b.jpg", "z.jpg")
    ]
    answer = resolve(api, tasks[0], "image")
    assert answer.status_code == 303, answer.text
    url = answer.headers["location"]
    assert "X-Goog-Signature" in url and "X-Goog-Expires=60" in url
    # fake-gcs-server serves the object at the signed path (it does not check signatures).
    assert httpx.get(url).content == b"media/a.jpg"


# ---------------------------------------------------------------------------------- Azure


@pytest.fixture()
def container(azure_endpoint: str) -> str:
    name = f"box-{uuid.uuid4().hex[:12]}"
    service = BlobServiceClient.from_connection_string(
        emulators.azurite_connection_string(azure_endpoint)
    )
    service.create_container(name)
    return name


def test_azure_bad_key_missing_container_sync_presign_and_export(
    api: Api, db: Db, azure_endpoint: str, container: str
) -> None:
    service = BlobServiceClient.from_connection_string(
        emulators.azurite_connection_string(azure_endpoint)
    )
    holder = service.get_container_client(container)
    holder.upload_blob("in/one.json", json.dumps({"text": "one"}))
    holder.upload_blob("in/two.jsonl", b'{"text": "two"}\n{"text": "three"}\n')
    project_id = api.project(TEXT_CONFIG)
    good = emulators.azurite_connection_string(azure_endpoint)
    wrong_key = "A" * 86 + "=="
    bad = emulators.azurite_connection_string(azure_endpoint, account_key=wrong_key)
    body = {"project": project_id, "container": container, "prefix": "in", "presign_ttl": 2}
    refused = api.create("azure", {**body, "connection_string": bad})
    assert refused.status_code == 400, refused.text
    reason = refused.json()["validation_errors"]["container"][0]
    assert "AuthenticationFailed" in reason or "403" in reason
    assert wrong_key not in refused.text
    missing = api.create("azure", {**body, "container": "no-such-box", "connection_string": good})
    assert missing.status_code == 400
    assert "ContainerNotFound" in missing.json()["validation_errors"]["container"][0]
    no_credentials = api.create("azure", body)
    assert no_credentials.status_code == 400
    assert "account_name" in no_credentials.json()["validation_errors"]
    assert db.storages(project_id) == []
    created = api.create("azure", {**body, "connection_string": good})
    assert created.status_code == 201, created.text
    assert created.json()["connection_string"] == "********"
    synced = api.sync("azure", created.json()["id"])
    assert synced["status"] == "completed", synced
    assert synced["last_sync_count"] == 3
    assert sorted(t["data"]["text"] for t in api.tasks(project_id)) == ["one", "three", "two"]
    holder.upload_blob("in/a-first.json", json.dumps({"text": "four"}))
    assert api.sync("azure", created.json()["id"])["last_sync_count"] == 1

    media_project = api.project()
    holder.upload_blob("pics/cat.jpg", b"azure-cat")
    pics = api.create(
        "azure",
        {
            "project": media_project,
            "container": container,
            "prefix": "pics",
            "use_blob_urls": True,
            "connection_string": good,
        },
    ).json()
    api.sync("azure", pics["id"])
    (task,) = api.tasks(media_project)
    assert task["data"]["image"] == f"azure-blob://{container}/pics/cat.jpg"
    answer = resolve(api, task, "image")
    assert answer.status_code == 303, answer.text
    url = answer.headers["location"]
    assert "sig=" in url
    # Azurite checks SAS signatures: this is the real thing.
    assert httpx.get(url).content == b"azure-cat"
    tampered = url.replace("sp=r", "sp=rw")
    assert httpx.get(tampered).status_code == 403

    exported = api.create(
        "azure",
        {
            "project": media_project,
            "container": container,
            "prefix": "out",
            "connection_string": good,
        },
        export=True,
    )
    assert exported.status_code == 201, exported.text
    annotation = api.stack.task.post(
        f"/api/tasks/{task['id']}/annotations",
        json={
            "result": [
                {
                    "from_name": "choice",
                    "to_name": "image",
                    "type": "choices",
                    "value": {"choices": ["cat"]},
                }
            ]
        },
        headers=api.cast.owner.headers,
    )
    assert annotation.status_code == 201
    done = api.sync("azure", exported.json()["id"], export=True)
    assert done["last_sync_count"] == 1
    written = json.loads(holder.download_blob(f"out/{task['id']}.json").readall())
    assert written["annotations"][0]["result"][0]["value"] == {"choices": ["cat"]}


# ---------------------------------------------------------------------------------- Redis


def test_redis_import_and_export(api: Api, db: Db, redis_target: tuple[str, int]) -> None:
    host, port = redis_target
    prefix = f"t-{uuid.uuid4().hex[:10]}/"
    client = redis.Redis(host=host, port=port, db=3, password=REDIS_PASSWORD)
    client.set(f"{prefix}one.json", json.dumps({"text": "one"}))
    client.set(f"{prefix}two.json", json.dumps([{"data": {"text": "two"}}]))
    project_id = api.project(TEXT_CONFIG)
    body = {"project": project_id, "host": host, "port": port, "db": 3, "path": prefix}
    wrong_password = api.create("redis", {**body, "password": "not-the-password"})
    assert wrong_password.status_code == 400
    assert "password" in wrong_password.json()["validation_errors"]
    assert "not-the-password" not in wrong_password.text
    no_password = api.create("redis", body)
    assert no_password.status_code == 400
    body["password"] = REDIS_PASSWORD
    closed = api.create("redis", {**body, "port": 1})
    assert closed.status_code == 400
    assert "host" in closed.json()["validation_errors"]
    assert db.storages(project_id) == []
    created = api.create("redis", body)
    assert created.status_code == 201, created.text
    synced = api.sync("redis", created.json()["id"])
    assert synced["last_sync_count"] == 2, synced
    client.set(f"{prefix}three.json", json.dumps({"text": "three"}))
    assert api.sync("redis", created.json()["id"])["last_sync_count"] == 1
    assert sorted(t["data"]["text"] for t in api.tasks(project_id)) == ["one", "three", "two"]
    export_prefix = f"e-{uuid.uuid4().hex[:10]}"
    exported = api.create("redis", {**body, "path": export_prefix}, export=True)
    assert exported.status_code == 201, exported.text
    task_id = api.tasks(project_id)[0]["id"]
    api.stack.task.post(
        f"/api/tasks/{task_id}/annotations",
        json={
            "result": [
                {
                    "from_name": "choice",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["good"]},
                }
            ]
        },
        headers=api.cast.owner.headers,
    )
    assert api.sync("redis", exported.json()["id"], export=True)["last_sync_count"] == 1
    value = client.get(f"{export_prefix}/{task_id}.json")
    assert value is not None and json.loads(value)["id"] == task_id
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.delete(f"{export_prefix}/{task_id}.json")


def test_secrets_are_never_answered_nor_logged(
    api: Api, stack: Stack, azure_endpoint: str, container: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    project_id = api.project()
    good = emulators.azurite_connection_string(azure_endpoint)
    created = api.create(
        "azure", {"project": project_id, "container": container, "connection_string": good}
    )
    assert created.status_code == 201
    listed = stack.storage.get(
        f"/api/storages/?project={project_id}", headers=api.cast.owner.headers
    )
    for text in (created.text, listed.text, caplog.text):
        assert emulators.AZURITE_KEY not in text

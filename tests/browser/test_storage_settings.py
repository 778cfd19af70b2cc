"""The cloud storage settings page in a real browser, against real storages: moto's S3 server,
fake-gcs-server, Azurite, the test Redis and folders under the server's document root.

A source storage goes through its whole life on the page (a connection check that fails
with the server's reason and creates nothing, one that works, add, sync followed until done,
a re-sync that adds only what is new, edit with the saved credentials kept, remove), and a
target storage gets the project's annotations written when it syncs.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis
from azure.storage.blob import BlobServiceClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage as gcs_storage
from labelops_testing.emulators import (
    azurite_blob,
    azurite_connection_string,
    moto_s3,
    moto_s3_client,
)
from playwright.sync_api import Locator, Page, expect

IMAGES = """<View>
  <Image name="image" value="$image"/>
  <Choices name="kind" toName="image">
    <Choice value="cat"/>
    <Choice value="dog"/>
  </Choices>
</View>"""
TEXTS = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="positive"/>
    <Choice value="negative"/>
  </Choices>
</View>"""
ACCESS_KEY = "AKIABROWSERSTORAGE01"
SECRET_KEY = "browser-storage-secret-0123456789abcdef"
#: A sync runs as a job; the page follows it by asking again every 1.5 s.
SYNC_TIMEOUT_MS = 60_000
#: Azurite's package lock, shared with the artifact-store and storage-sync tests.
AZURITE_DIR = (
    Path(__file__).resolve().parents[2]
    / "libs"
    / "labelops-common"
    / "tests"
    / "artifacts"
    / "emulators"
)


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_s3(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture()
def bucket(s3_endpoint: str) -> tuple[str, Any]:
    """A fresh bucket of the emulator and a client for it."""
    client = moto_s3_client(s3_endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    name = f"browser-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=name)
    return name, client


@pytest.fixture(scope="module")
def azure_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with azurite_blob(tmp_path_factory.mktemp("azurite"), package_dir=AZURITE_DIR) as endpoint:
        yield endpoint


def _service_account_json() -> str:
    """A service-account key made here: the server signs URLs with it offline."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "browser",
            "private_key_id": "browser-test",
            "private_key": pem,
            "client_email": "sync@browser.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )


def _section(page: Page, heading: str) -> Locator:
    return page.get_by_role("region", name=heading)


def _expect_synced(row: Locator) -> None:
    """The row's status badge says the last sync completed (not failed, not with errors)."""
    expect(row.locator(".badge")).to_have_text("Synced", timeout=SYNC_TIMEOUT_MS)


def _dialog(page: Page, title: str) -> Locator:
    return page.get_by_role("dialog", name=title)


def _storages(api: httpx.Client, project_id: int, direction: str = "import") -> list[Any]:
    path = "/api/storages" if direction == "import" else "/api/storages/export"
    answer = api.get(path, params={"project": project_id})
    assert answer.status_code == 200, answer.text
    found: list[Any] = answer.json()
    return found


def _task_total(api: httpx.Client, project_id: int) -> int:
    answer = api.get("/api/tasks", params={"project": project_id, "page_size": 1})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["total"])


def _fill_s3(dialog: Locator, *, endpoint: str, bucket: str, prefix: str) -> None:
    dialog.get_by_label("Bucket name").fill(bucket)
    dialog.get_by_label("Bucket prefix").fill(prefix)
    dialog.get_by_label("S3 endpoint").fill(endpoint)
    dialog.get_by_label("Region name").fill("us-east-1")
    dialog.get_by_label("Access key ID").fill(ACCESS_KEY)
    dialog.get_by_label("Secret access key").fill(SECRET_KEY)


def test_source_storage_add_check_sync_edit_remove(
    page: Page,
    api: httpx.Client,
    make_project: Callable[..., dict[str, Any]],
    s3_endpoint: str,
    bucket: tuple[str, Any],
    screenshot: Callable[[Page, str], Path],
) -> None:
    name, s3 = bucket
    for number in range(5):
        s3.put_object(Bucket=name, Key=f"photos/{number}.jpg", Body=b"jpeg")
    s3.put_object(Bucket=name, Key="photos/readme.txt", Body=b"not an image")
    project_id = make_project("Storage source", IMAGES, [])["id"]
    page.goto(f"/projects/{project_id}/settings/storage")
    source = _section(page, "Source cloud storage")
    expect(source.get_by_text("No storage connected")).to_be_visible()

    source.get_by_role("button", name="Add source storage").click()
    dialog = _dialog(page, "Add source storage")
    dialog.get_by_label("Storage type").select_option("s3")
    dialog.get_by_label("Storage title").fill("Photos")
    _fill_s3(dialog, endpoint=s3_endpoint, bucket=f"{name}-missing", prefix="photos/")
    dialog.get_by_label("File filter regex").fill(r".*\.jpg")
    dialog.get_by_label("Treat every object as a source file (one task per file)").check()

    # A missing bucket: the server's reason (under the field it names, or above the
    # buttons when it names none), and nothing created.
    dialog.get_by_role("button", name="Check connection").click()
    reason = dialog.locator(".error-list, .field-errors").first
    expect(reason).to_be_visible()
    expect(reason).not_to_be_empty()
    expect(dialog.get_by_text("Connection works.")).to_have_count(0)
    assert _storages(api, project_id) == []

    dialog.get_by_label("Bucket name").fill(name)
    dialog.get_by_role("button", name="Check connection").click()
    expect(dialog.get_by_role("status")).to_have_text("Connection works.")
    assert _storages(api, project_id) == []
    dialog.get_by_role("button", name="Add storage").click()
    expect(dialog).to_be_hidden()

    row = source.get_by_role("row", name="Photos", exact=True)
    expect(row).to_contain_text("Not synced yet")
    [stored] = _storages(api, project_id)
    assert stored["type"] == "s3"
    assert stored["bucket"] == name
    assert stored["regex_filter"] == r".*\.jpg"
    assert stored["use_blob_urls"] is True
    # Credentials are stored, never answered.
    assert SECRET_KEY not in json.dumps(stored)

    # Sync: queued by the POST, followed by the page until done, without a reload.
    row.get_by_role("button", name="Sync Photos").click()
    _expect_synced(row)
    expect(row.get_by_role("cell").nth(4)).to_have_text("5")
    assert _task_total(api, project_id) == 5
    screenshot(page, "storage-source-synced")

    # A re-sync adds only the new objects.
    for number in (5, 6):
        s3.put_object(Bucket=name, Key=f"photos/{number}.jpg", Body=b"jpeg")
    row.get_by_role("button", name="Sync Photos").click()
    expect(row.get_by_role("cell").nth(4)).to_have_text("2", timeout=SYNC_TIMEOUT_MS)
    _expect_synced(row)
    assert _task_total(api, project_id) == 7

    # Edit: the form starts from the saved values, credentials blank; blank keeps them.
    row.get_by_role("button", name="Edit Photos").click()
    dialog = _dialog(page, "Edit source storage")
    expect(dialog.get_by_label("Bucket name")).to_have_value(name)
    expect(dialog.get_by_label("File filter regex")).to_have_value(r".*\.jpg")
    expect(dialog.get_by_label("Secret access key")).to_have_value("")
    expect(dialog.get_by_text("Saved. Leave blank to keep it.").first).to_be_visible()
    dialog.get_by_label("Storage title").fill("Photos and notes")
    dialog.get_by_label("File filter regex").fill(r".*\.(jpg|txt)")
    dialog.get_by_role("button", name="Check connection").click()
    expect(dialog.get_by_role("status")).to_have_text("Connection works.")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog).to_be_hidden()
    row = source.get_by_role("row", name="Photos and notes", exact=True)
    expect(row).to_be_visible()
    [stored] = _storages(api, project_id)
    assert stored["title"] == "Photos and notes"
    assert stored["regex_filter"] == r".*\.(jpg|txt)"
    assert stored["bucket"] == name

    # The kept credentials still open the bucket: the widened filter finds the text file.
    row.get_by_role("button", name="Sync Photos and notes").click()
    expect(row.get_by_role("cell").nth(4)).to_have_text("1", timeout=SYNC_TIMEOUT_MS)
    assert _task_total(api, project_id) == 8

    row.get_by_role("button", name="Remove Photos and notes").click()
    confirm = _dialog(page, "Remove source storage")
    expect(confirm).to_contain_text("Tasks already imported from it stay in the project.")
    confirm.get_by_role("button", name="Remove").click()
    expect(source.get_by_text("No storage connected")).to_be_visible()
    assert _storages(api, project_id) == []
    assert _task_total(api, project_id) == 8


def test_target_storage_writes_annotations_on_sync(
    page: Page,
    api: httpx.Client,
    make_project: Callable[..., dict[str, Any]],
    s3_endpoint: str,
    bucket: tuple[str, Any],
) -> None:
    name, s3 = bucket
    choice = {
        "result": [
            {
                "id": "r1",
                "from_name": "sentiment",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["positive"]},
            }
        ]
    }
    project_id = make_project(
        "Storage target",
        TEXTS,
        [
            {"data": {"text": "Great."}, "annotations": [choice]},
            {"data": {"text": "Also great."}, "annotations": [choice]},
        ],
    )["id"]
    page.goto(f"/projects/{project_id}/settings/storage")
    target = _section(page, "Target cloud storage")
    target.get_by_role("button", name="Add target storage").click()
    dialog = _dialog(page, "Add target storage")
    dialog.get_by_label("Storage type").select_option("s3")
    dialog.get_by_label("Storage title").fill("Labels out")
    _fill_s3(dialog, endpoint=s3_endpoint, bucket=name, prefix="labels")
    # Source-only fields are not offered for a target.
    expect(dialog.get_by_label("Use pre-signed URLs")).to_have_count(0)
    dialog.get_by_label("Delete objects when annotations are deleted").check()
    dialog.get_by_role("button", name="Add storage").click()
    expect(dialog).to_be_hidden()

    row = target.get_by_role("row", name="Labels out", exact=True)
    row.get_by_role("button", name="Sync Labels out").click()
    _expect_synced(row)
    listed = s3.list_objects_v2(Bucket=name, Prefix="labels").get("Contents", [])
    assert len(listed) == 2
    [stored] = _storages(api, project_id, "export")
    assert stored["can_delete_objects"] is True
    assert _storages(api, project_id, "import") == []

    row.get_by_role("button", name="Remove Labels out").click()
    confirm = _dialog(page, "Remove target storage")
    expect(confirm).to_contain_text("Files already written stay in the storage.")
    confirm.get_by_role("button", name="Remove").click()
    expect(target.get_by_text("No storage connected")).to_be_visible()
    assert len(s3.list_objects_v2(Bucket=name, Prefix="labels").get("Contents", [])) == 2


def test_local_files_and_redis_storages(
    page: Page,
    api: httpx.Client,
    make_project: Callable[..., dict[str, Any]],
    document_root: Path,
) -> None:
    folder = document_root / f"texts-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    for number in range(3):
        (folder / f"{number}.json").write_text(json.dumps({"text": f"file {number}"}))
    project_id = make_project("Storage local and redis", TEXTS, [])["id"]
    page.goto(f"/projects/{project_id}/settings/storage")
    source = _section(page, "Source cloud storage")

    # A folder outside the document root is refused under its field, and nothing is made.
    source.get_by_role("button", name="Add source storage").click()
    dialog = _dialog(page, "Add source storage")
    dialog.get_by_label("Storage type").select_option("localfiles")
    dialog.get_by_label("Storage title").fill("Local texts")
    dialog.get_by_label("Absolute local path").fill("/etc")
    dialog.get_by_role("button", name="Add storage").click()
    path_input = dialog.get_by_label("Absolute local path")
    expect(path_input).to_have_attribute("aria-invalid", "true")
    assert _storages(api, project_id) == []

    path_input.fill(str(folder))
    dialog.get_by_role("button", name="Add storage").click()
    expect(dialog).to_be_hidden()
    row = source.get_by_role("row", name="Local texts", exact=True)
    row.get_by_role("button", name="Sync Local texts").click()
    _expect_synced(row)
    assert _task_total(api, project_id) == 3

    # Redis: tasks as JSON values under a key prefix of the test Redis.
    redis_url = os.environ.get("LABELOPS_TEST_REDIS_URL")
    assert redis_url, "the test command's Redis (LABELOPS_TEST_REDIS_URL) is needed"
    where = urlsplit(redis_url)
    prefix = f"browser-{uuid.uuid4().hex[:8]}"
    db = 1
    client = redis.Redis(host=where.hostname or "127.0.0.1", port=where.port or 6379, db=db)
    try:
        for number in range(2):
            client.set(f"{prefix}/{number}.json", json.dumps({"text": f"redis {number}"}))
        source.get_by_role("button", name="Add source storage").click()
        dialog = _dialog(page, "Add source storage")
        dialog.get_by_label("Storage type").select_option("redis")
        dialog.get_by_label("Storage title").fill("Redis texts")
        dialog.get_by_label("Path (key prefix)").fill(prefix)
        dialog.get_by_label("Host", exact=True).fill(where.hostname or "127.0.0.1")
        dialog.get_by_label("Port", exact=True).fill(str(where.port or 6379))
        dialog.get_by_label("Database number").fill(str(db))
        dialog.get_by_role("button", name="Check connection").click()
        expect(dialog.get_by_role("status")).to_have_text("Connection works.")
        dialog.get_by_role("button", name="Add storage").click()
        expect(dialog).to_be_hidden()
        row = source.get_by_role("row", name="Redis texts", exact=True)
        row.get_by_role("button", name="Sync Redis texts").click()
        _expect_synced(row)
        assert _task_total(api, project_id) == 5
        assert sorted(s["type"] for s in _storages(api, project_id)) == ["localfiles", "redis"]
    finally:
        client.delete(*[f"{prefix}/{number}.json" for number in range(2)])
        client.close()

    # A local target folder gets the annotations written on sync.
    out = document_root / f"out-{uuid.uuid4().hex[:8]}"
    out.mkdir()
    task_id = api.get("/api/tasks", params={"project": project_id}).json()["tasks"][0]["id"]
    created = api.post(
        f"/api/tasks/{task_id}/annotations",
        json={
            "result": [
                {
                    "id": "r1",
                    "from_name": "sentiment",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["negative"]},
                }
            ]
        },
    )
    assert created.status_code == 201, created.text
    target = _section(page, "Target cloud storage")
    target.get_by_role("button", name="Add target storage").click()
    dialog = _dialog(page, "Add target storage")
    dialog.get_by_label("Storage type").select_option("localfiles")
    dialog.get_by_label("Storage title").fill("Local out")
    dialog.get_by_label("Absolute local path").fill(str(out))
    dialog.get_by_role("button", name="Add storage").click()
    expect(dialog).to_be_hidden()
    row = target.get_by_role("row", name="Local out", exact=True)
    row.get_by_role("button", name="Sync Local out").click()
    _expect_synced(row)
    assert len([p for p in out.rglob("*") if p.is_file()]) == 1


def test_gcs_source_and_azure_target(
    page: Page,
    api: httpx.Client,
    make_project: Callable[..., dict[str, Any]],
    gcs_endpoint: str,
    azure_endpoint: str,
) -> None:
    gcs = gcs_storage.Client(
        project="browser",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": gcs_endpoint},
    )
    gcs_bucket = gcs.create_bucket(f"browser-{uuid.uuid4().hex[:10]}")
    for number in range(3):
        gcs_bucket.blob(f"texts/{number}.json").upload_from_string(
            json.dumps({"text": f"gcs {number}"})
        )
    container = f"box-{uuid.uuid4().hex[:10]}"
    blobs = BlobServiceClient.from_connection_string(azurite_connection_string(azure_endpoint))
    blobs.create_container(container)
    project_id = make_project("Storage gcs and azure", TEXTS, [])["id"]
    page.goto(f"/projects/{project_id}/settings/storage")

    source = _section(page, "Source cloud storage")
    source.get_by_role("button", name="Add source storage").click()
    dialog = _dialog(page, "Add source storage")
    dialog.get_by_label("Storage type").select_option("gcs")
    dialog.get_by_label("Storage title").fill("GCS texts")
    dialog.get_by_label("Bucket name").fill(gcs_bucket.name)
    dialog.get_by_label("Bucket prefix").fill("texts")
    dialog.get_by_label("Service account credentials (JSON)").fill(_service_account_json())
    dialog.get_by_role("button", name="Check connection").click()
    expect(dialog.get_by_role("status")).to_have_text("Connection works.")
    dialog.get_by_role("button", name="Add storage").click()
    expect(dialog).to_be_hidden()
    row = source.get_by_role("row", name="GCS texts", exact=True)
    row.get_by_role("button", name="Sync GCS texts").click()
    _expect_synced(row)
    expect(row.get_by_role("cell").nth(4)).to_have_text("3")
    assert _task_total(api, project_id) == 3
    [stored] = _storages(api, project_id)
    assert stored["type"] == "gcs"
    assert "PRIVATE KEY" not in json.dumps(stored)

    # Azure target: a wrong account key is refused and nothing is made; the right one works.
    good = azurite_connection_string(azure_endpoint)
    wrong_key = azurite_connection_string(azure_endpoint, account_key="d3Jvbmcta2V5" * 8)
    target = _section(page, "Target cloud storage")
    target.get_by_role("button", name="Add target storage").click()
    dialog = _dialog(page, "Add target storage")
    dialog.get_by_label("Storage type").select_option("azure")
    dialog.get_by_label("Storage title").fill("Azure out")
    dialog.get_by_label("Container name").fill(container)
    dialog.get_by_label("Container prefix").fill("labels")
    dialog.get_by_label("Connection string").fill(wrong_key)
    dialog.get_by_role("button", name="Add storage").click()
    expect(dialog.locator(".error-list, .field-errors").first).to_be_visible()
    assert _storages(api, project_id, "export") == []
    dialog.get_by_label("Connection string").fill(good)
    dialog.get_by_role("button", name="Add storage").click()
    expect(dialog).to_be_hidden()

    task_id = api.get("/api/tasks", params={"project": project_id}).json()["tasks"][0]["id"]
    created = api.post(
        f"/api/tasks/{task_id}/annotations",
        json={
            "result": [
                {
                    "id": "r1",
                    "from_name": "sentiment",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["positive"]},
                }
            ]
        },
    )
    assert created.status_code == 201, created.text
    row = target.get_by_role("row", name="Azure out", exact=True)
    row.get_by_role("button", name="Sync Azure out").click()
    _expect_synced(row)
    written = list(blobs.get_container_client(container).list_blobs(name_starts_with="labels"))
    assert len(written) == 1

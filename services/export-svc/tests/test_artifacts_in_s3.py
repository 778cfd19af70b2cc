"""Snapshots in an object store: export-svc built with `LABELOPS_ARTIFACT_STORAGE=s3`
against moto's S3 server, as a pod whose worker and API do not share a disk would run.

The snapshot job writes the file into the bucket under the prefix; the API redirects its
download to a presigned URL (or streams it back) and converts from it; deleting the export
removes the objects.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from export_svc.app import build_service as build_export_service
from export_svc.exports import jobs
from export_svc.settings import Settings as ExportSettings
from fastapi.testclient import TestClient
from labelops_common.artifacts.s3 import S3ArtifactStorage
from labelops_common.jobs import register_job_resources
from labelops_common.migrations import upgrade_to_head
from labelops_testing import emulators
from labelops_testing.databases import scratch_database_url

from .conftest import Cast, Seeded, Stack

BUCKET = "labelops-exports"
PREFIX = "suite/"
ACCESS_KEY = "AKIAEXPORTSVCTEST001"
SECRET_KEY = "export-svc-s3-secret-0123456789abcdefghij"


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulators.moto_s3(tmp_path_factory.mktemp("moto")) as endpoint:
        bucket_client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint


def bucket_client(endpoint: str) -> Any:
    return emulators.moto_s3_client(endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY)


def bucket_keys(endpoint: str) -> set[str]:
    answer = bucket_client(endpoint).list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)
    return {item["Key"] for item in answer.get("Contents", [])}


@pytest.fixture()
def s3_export(
    stack: Stack,
    s3_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    sent: list[tuple[str, int]],
) -> Iterator[TestClient]:
    """A second export-svc, configured by environment for S3, beside the stack's peers."""
    for name, value in {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    common = stack.common.model_copy(
        update={"artifact_storage": "s3", "artifact_bucket": BUCKET, "artifact_prefix": PREFIX}
    )
    with scratch_database_url("export-svc-s3") as database_url:
        runtime = build_export_service(common, ExportSettings(database_url=database_url))
        upgrade_to_head(
            script_location=runtime.migrations_dir,
            database_url=database_url,
            service_name=runtime.name,
        )
        try:
            with TestClient(runtime.http_app, raise_server_exceptions=False) as client:
                yield client
        finally:
            # Job bodies go back to the stack's export-svc for the tests that follow.
            assert stack.export_runtime.job_resources is not None
            register_job_resources(stack.export_runtime.job_resources)
            runtime.close()


def test_snapshot_lives_in_the_bucket(
    s3_export: TestClient,
    s3_endpoint: str,
    cast: Cast,
    ner_project: Seeded,
    sent: list[tuple[str, int]],
) -> None:
    storage = s3_export.app.state.artifact_storage  # type: ignore[attr-defined]
    assert isinstance(storage, S3ArtifactStorage) and storage.bucket == BUCKET
    project = ner_project.project_id
    base = f"/api/projects/{project}/exports"

    created = s3_export.post(base, json={"title": "to s3"}, headers=cast.owner.headers)
    assert created.status_code == 201, created.text
    export_id = created.json()["id"]
    assert sent[-1] == (jobs.write_snapshot.name, export_id)
    assert f"{PREFIX}exports/{project}/{export_id}.json" not in bucket_keys(s3_endpoint)

    assert jobs.write_snapshot.run(export_id) == "succeeded"
    key = f"{PREFIX}exports/{project}/{export_id}.json"
    assert key in bucket_keys(s3_endpoint)
    stored = bucket_client(s3_endpoint).get_object(Bucket=BUCKET, Key=key)["Body"].read()
    shown = s3_export.get(f"{base}/{export_id}", headers=cast.owner.headers).json()
    assert shown["status"] == "completed"
    assert shown["md5"] == hashlib.md5(stored, usedforsecurity=False).hexdigest()

    # The file itself: a redirect to a presigned URL, whose bytes (and ranges) the store serves.
    redirected = s3_export.get(
        f"{base}/{export_id}/download", headers=cast.owner.headers, follow_redirects=False
    )
    assert redirected.status_code == 307
    location = redirected.headers["location"]
    assert location.startswith(f"{s3_endpoint}/{BUCKET}/{key}?") and "Signature" in location
    assert SECRET_KEY not in location
    from_store = httpx.get(location)
    assert from_store.status_code == 200 and from_store.content == stored
    assert [task["id"] for task in from_store.json()] == ner_project.task_ids
    assert "attachment" in from_store.headers["content-disposition"]
    tail = httpx.get(location, headers={"Range": "bytes=10-"})
    assert tail.status_code == 206 and tail.content == stored[10:]
    # With presigned downloads off, the API streams the file itself.
    s3_export.app.state.settings.presigned_download_seconds = 0  # type: ignore[attr-defined]
    downloaded = s3_export.get(f"{base}/{export_id}/download", headers=cast.owner.headers)
    assert downloaded.status_code == 200 and downloaded.content == stored
    as_csv = s3_export.get(
        f"{base}/{export_id}/download", params={"exportType": "CSV"}, headers=cast.owner.headers
    )
    assert as_csv.status_code == 200
    assert len(list(csv.DictReader(io.StringIO(as_csv.text)))) == 3

    converting = s3_export.post(
        f"{base}/{export_id}/convert", json={"export_type": "JSON_MIN"}, headers=cast.owner.headers
    )
    converted_id = converting.json()["converted_format"]
    assert jobs.convert_snapshot.run(converted_id) == "succeeded"
    assert bucket_keys(s3_endpoint) >= {key, f"{PREFIX}exports/{project}/{export_id}-json_min.json"}

    gone = s3_export.delete(f"{base}/{export_id}", headers=cast.owner.headers)
    assert gone.status_code == 204
    assert not {k for k in bucket_keys(s3_endpoint) if k.startswith(f"{PREFIX}exports/{project}/")}

"""`artifact_storage(common, ...)`: the settings the Helm chart sets pick and configure the
backend, through each SDK's own environment variables, against the emulators."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from labelops_common.artifacts import (
    ArtifactStorageError,
    LocalArtifactStorage,
    artifact_storage,
)
from labelops_common.artifacts.azure import AzureArtifactStorage
from labelops_common.artifacts.gcs import GCSArtifactStorage
from labelops_common.artifacts.s3 import S3ArtifactStorage
from labelops_common.settings import CommonSettings
from labelops_testing import emulators
from pydantic import ValidationError

from .conftest import BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY, s3_backend

SETTINGS_ENV = ("LABELOPS_ARTIFACT_STORAGE", "LABELOPS_ARTIFACT_BUCKET", "LABELOPS_ARTIFACT_PREFIX")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)


def test_local_is_the_default(tmp_path: Path) -> None:
    common = CommonSettings()
    assert common.artifact_storage == "local" and common.artifact_bucket == ""
    storage = artifact_storage(common, local_root=tmp_path / "artifacts")
    assert isinstance(storage, LocalArtifactStorage)
    assert storage.root == (tmp_path / "artifacts").resolve()


@pytest.mark.parametrize("kind", ["s3", "gcs", "azure"])
def test_cloud_storage_without_bucket_fails_fast(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABELOPS_ARTIFACT_STORAGE", kind)
    with pytest.raises(
        ValidationError,
        match=f"LABELOPS_ARTIFACT_BUCKET must be set when LABELOPS_ARTIFACT_STORAGE={kind}",
    ):
        CommonSettings()


def test_unknown_storage_type_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABELOPS_ARTIFACT_STORAGE", "ftp")
    with pytest.raises(ValidationError, match="artifact_storage"):
        CommonSettings()


@pytest.mark.parametrize("prefix", ["../other", "a/../../b", "a\\b"])
def test_escaping_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValidationError, match="LABELOPS_ARTIFACT_PREFIX"):
        CommonSettings(artifact_storage="s3", artifact_bucket="b", artifact_prefix=prefix)


def test_s3_from_environment(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LABELOPS_ARTIFACT_STORAGE", "s3")
    monkeypatch.setenv("LABELOPS_ARTIFACT_BUCKET", BUCKET)
    monkeypatch.setenv("LABELOPS_ARTIFACT_PREFIX", "/from-env/s3/")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET_KEY)
    storage = artifact_storage(CommonSettings(), local_root=tmp_path)
    assert isinstance(storage, S3ArtifactStorage)
    writer = storage.writer("exports/1/1.json")
    writer.write(b"[]")
    writer.commit()
    assert s3_backend(s3_endpoint).raw_names("from-env/s3/") == {"from-env/s3/exports/1/1.json"}
    url = storage.presigned_url("exports/1/1.json", expires_seconds=60)
    assert url is not None and "X-Amz-Signature=" in url and S3_SECRET_KEY not in url
    storage.delete("exports/1/1.json")


def test_gcs_from_environment(
    gcs_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LABELOPS_ARTIFACT_STORAGE", "gcs")
    monkeypatch.setenv("LABELOPS_ARTIFACT_BUCKET", BUCKET)
    monkeypatch.setenv("LABELOPS_ARTIFACT_PREFIX", "from-env/gcs")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test")
    storage = artifact_storage(CommonSettings(), local_root=tmp_path)
    assert isinstance(storage, GCSArtifactStorage)
    writer = storage.writer("exports/1/1.json")
    writer.write(b"[]")
    writer.commit()
    names = {blob.name for blob in storage.client.list_blobs(BUCKET, prefix="from-env/gcs/")}
    assert names == {"from-env/gcs/exports/1/1.json"}
    # The emulator's anonymous credentials cannot sign: downloads stay behind the API.
    assert storage.presigned_url("exports/1/1.json", expires_seconds=60) is None
    storage.delete("exports/1/1.json")


def test_azure_from_environment(
    azure_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LABELOPS_ARTIFACT_STORAGE", "azure")
    monkeypatch.setenv("LABELOPS_ARTIFACT_BUCKET", BUCKET)
    monkeypatch.setenv("LABELOPS_ARTIFACT_PREFIX", "from-env/azure/")
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING", emulators.azurite_connection_string(azure_endpoint)
    )
    storage = artifact_storage(CommonSettings(), local_root=tmp_path)
    assert isinstance(storage, AzureArtifactStorage)
    writer = storage.writer("exports/1/1.json")
    writer.write(b"[]")
    writer.commit()
    names = set(storage.container.list_blob_names(name_starts_with="from-env/azure/"))
    assert names == {"from-env/azure/exports/1/1.json"}
    storage.delete("exports/1/1.json")


def test_azure_without_connection_string_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    common = CommonSettings(artifact_storage="azure", artifact_bucket="c")
    with pytest.raises(ArtifactStorageError, match="AZURE_STORAGE_CONNECTION_STRING"):
        artifact_storage(common, local_root=tmp_path)


def test_unreachable_s3_endpoint_is_an_artifact_error() -> None:
    closed_port = emulators.free_port()
    unreachable = boto3.session.Session().client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{closed_port}",
        region_name="us-east-1",
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        config=Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2),
    )
    storage = S3ArtifactStorage(unreachable, bucket=BUCKET)
    for operation in (storage.check, lambda: storage.read("a.json"), lambda: storage.exists("a")):
        with pytest.raises(ArtifactStorageError, match="s3 bucket 'labelops-artifacts'") as raised:
            operation()
        assert S3_SECRET_KEY not in str(raised.value) and S3_ACCESS_KEY not in str(raised.value)

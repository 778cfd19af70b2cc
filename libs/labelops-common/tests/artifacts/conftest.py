"""The artifact contract's backends, each against a real server started once per session.

S3 runs on moto's server, GCS on fake-gcs-server, Azure on Azurite (installed with `npm ci`
from `emulators/package-lock.json` when missing). Every test gets its own key prefix, so
listing the raw bucket under it shows exactly what that test left behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage as gcs_storage
from google.oauth2 import service_account
from labelops_common.artifacts import ArtifactStorage, LocalArtifactStorage
from labelops_common.artifacts.azure import AzureArtifactStorage, connection_service
from labelops_common.artifacts.gcs import CHUNK_QUANTUM, GCSArtifactStorage
from labelops_common.artifacts.s3 import MIN_PART_SIZE, S3ArtifactStorage
from labelops_testing import emulators

EMULATORS_DIR = Path(__file__).parent / "emulators"
BUCKET = "labelops-artifacts"
S3_ACCESS_KEY = "AKIAARTIFACTTEST0001"
S3_SECRET_KEY = "artifact-test-secret-0123456789abcdefghij"

#: Small parts and blocks, so a few MiB already cross several of them.
SMALL_GCS_CHUNK = CHUNK_QUANTUM
SMALL_AZURE_BLOCK = 256 * 1024


@dataclass
class Backend:
    """One backend under test: how to build a storage on a prefix, and how to look at the
    raw bucket below the storage's abstraction."""

    name: str
    make: Callable[[str], ArtifactStorage]
    #: Every object name in the bucket that starts with the given raw prefix.
    raw_names: Callable[[str], set[str]]
    #: Uploads started under the prefix and neither finished nor aborted (S3 multipart only).
    pending_uploads: Callable[[str], int]
    #: The storage with a wrong bucket, and a storage with a wrong credential (if the
    #: emulator checks credentials), plus the secret that must not leak.
    broken: Callable[[], list[tuple[ArtifactStorage, str]]]
    #: The key that verifies presigned URLs, where the test must check them itself.
    signature_key: rsa.RSAPublicKey | None = None


def s3_client(endpoint: str, *, secret: str = S3_SECRET_KEY) -> object:
    return emulators.moto_s3_client(endpoint, access_key=S3_ACCESS_KEY, secret_key=secret)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulators.moto_s3(tmp_path_factory.mktemp("moto")) as endpoint:
        client: object = s3_client(endpoint)
        client.create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
        yield endpoint


@pytest.fixture(scope="session")
def gcs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulators.fake_gcs(tmp_path_factory.mktemp("gcs")) as endpoint:
        previous = os.environ.get("STORAGE_EMULATOR_HOST")
        os.environ["STORAGE_EMULATOR_HOST"] = endpoint
        gcs_storage.Client(project="test", credentials=AnonymousCredentials()).create_bucket(BUCKET)
        yield endpoint
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous


@pytest.fixture(scope="session")
def gcs_signer() -> Signer:
    return signing_service_account()


@pytest.fixture(scope="session")
def azure_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulators.azurite_blob(
        tmp_path_factory.mktemp("azurite"), package_dir=EMULATORS_DIR
    ) as endpoint:
        service = BlobServiceClient.from_connection_string(
            emulators.azurite_connection_string(endpoint)
        )
        service.create_container(BUCKET)
        yield endpoint


def local_backend(root: Path) -> Backend:
    def raw_names(prefix: str) -> set[str]:
        base = root / prefix
        return {path.relative_to(root).as_posix() for path in base.rglob("*") if path.is_file()}

    return Backend(
        name="local",
        make=lambda prefix: LocalArtifactStorage(root / prefix),
        raw_names=raw_names,
        pending_uploads=lambda prefix: 0,
        broken=lambda: [],
    )


def s3_backend(endpoint: str) -> Backend:
    client = s3_client(endpoint)

    def raw_names(prefix: str) -> set[str]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)  # type: ignore[attr-defined]
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def pending_uploads(prefix: str) -> int:
        answer = client.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)  # type: ignore[attr-defined]
        return len(answer.get("Uploads", []))

    def broken() -> list[tuple[ArtifactStorage, str]]:
        return [(S3ArtifactStorage(client, bucket="no-such-bucket-here"), S3_SECRET_KEY)]

    return Backend(
        name="s3",
        make=lambda prefix: S3ArtifactStorage(
            client, bucket=BUCKET, prefix=prefix, part_size=MIN_PART_SIZE
        ),
        raw_names=raw_names,
        pending_uploads=pending_uploads,
        broken=broken,
    )


@dataclass(frozen=True)
class Signer:
    """A service-account credential with a key made here (it signs V4 URLs offline), and
    the public half, to check what it signed."""

    credentials: service_account.Credentials
    public_key: rsa.RSAPublicKey


def signing_service_account() -> Signer:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    credentials = service_account.Credentials.from_service_account_info(
        {
            "type": "service_account",
            "project_id": "test",
            "private_key_id": "local-test-key",
            "private_key": pem,
            "client_email": "artifacts@test.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )
    return Signer(credentials=credentials, public_key=key.public_key())


def gcs_backend(endpoint: str, signer: Signer) -> Backend:
    client = gcs_storage.Client(project="test", credentials=AnonymousCredentials())

    def raw_names(prefix: str) -> set[str]:
        return {blob.name for blob in client.list_blobs(BUCKET, prefix=prefix)}

    def broken() -> list[tuple[ArtifactStorage, str]]:
        return [(GCSArtifactStorage(client, bucket="no-such-bucket-here"), "")]

    return Backend(
        name="gcs",
        make=lambda prefix: GCSArtifactStorage(
            client,
            bucket=BUCKET,
            prefix=prefix,
            chunk_size=SMALL_GCS_CHUNK,
            signing_credentials=signer.credentials,
        ),
        raw_names=raw_names,
        pending_uploads=lambda prefix: 0,
        broken=broken,
        signature_key=signer.public_key,
    )


def azure_backend(endpoint: str) -> Backend:
    service = connection_service(emulators.azurite_connection_string(endpoint))

    def raw_names(prefix: str) -> set[str]:
        container = service.get_container_client(BUCKET)
        return set(container.list_blob_names(name_starts_with=prefix))

    def broken() -> list[tuple[ArtifactStorage, str]]:
        # A well-formed key of the right length that is not the account's.
        wrong_key = "A" * 86 + "=="
        impostor = connection_service(
            emulators.azurite_connection_string(endpoint, account_key=wrong_key)
        )
        return [
            (AzureArtifactStorage(service, bucket="no-such-container"), emulators.AZURITE_KEY),
            (AzureArtifactStorage(impostor, bucket=BUCKET), wrong_key),
        ]

    return Backend(
        name="azure",
        make=lambda prefix: AzureArtifactStorage(
            service, bucket=BUCKET, prefix=prefix, block_size=SMALL_AZURE_BLOCK
        ),
        raw_names=raw_names,
        pending_uploads=lambda prefix: 0,
        broken=broken,
    )


BACKEND_NAMES = ("local", "s3", "gcs", "azure")


@pytest.fixture(params=BACKEND_NAMES)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    name = request.param
    if name == "local":
        return local_backend(tmp_path)
    if name == "s3":
        return s3_backend(request.getfixturevalue("s3_endpoint"))
    if name == "gcs":
        return gcs_backend(
            request.getfixturevalue("gcs_endpoint"), request.getfixturevalue("gcs_signer")
        )
    return azure_backend(request.getfixturevalue("azure_endpoint"))


@pytest.fixture()
def prefix() -> str:
    """A fresh raw prefix per test: what the test finds under it, it made."""
    return f"t-{uuid.uuid4().hex[:12]}/"

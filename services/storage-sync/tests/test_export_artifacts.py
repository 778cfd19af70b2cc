"""`StorageService.GetExportStorage` and `WriteExportArtifact`: export-svc's snapshot files,
streamed over gRPC into an export storage under its prefix: moto's S3, fake-gcs-server,
Azurite, a Redis server of the test's own, and a local directory."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import redis
from azure.storage.blob import BlobServiceClient
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage as gcs_storage
from labelops.storage.v1 import storage_pb2, storage_pb2_grpc
from labelops_common.grpcutil import grpc_channel
from labelops_testing import emulators

from .conftest import REDIS_PASSWORD, Api, Stack, s3_body, service_account_json

MIB = 1024 * 1024


def stub(stack: Stack) -> storage_pb2_grpc.StorageServiceStub:
    return storage_pb2_grpc.StorageServiceStub(
        grpc_channel(stack.common.peer_address("storage-sync"), retries=False)
    )


def messages(
    storage_id: int, project_id: int, name: str, chunks: list[bytes], *, size: int | None = None
) -> Iterator[storage_pb2.WriteExportArtifactRequest]:
    yield storage_pb2.WriteExportArtifactRequest(
        header=storage_pb2.ExportArtifactHeader(
            storage_id=storage_id,
            project_id=project_id,
            name=name,
            size=sum(len(chunk) for chunk in chunks) if size is None else size,
        )
    )
    for chunk in chunks:
        yield storage_pb2.WriteExportArtifactRequest(chunk=chunk)


def export_storage(api: Api, project_id: int, endpoint: str, bucket: str, **fields: Any) -> int:
    answer = api.create("s3", s3_body(project_id, endpoint, bucket, **fields), export=True)
    assert answer.status_code == 201, answer.text
    storage_id: int = answer.json()["id"]
    return storage_id


def test_a_large_file_is_streamed_in_parts_under_the_prefix(
    api: Api, stack: Stack, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    project_id = api.project()
    storage_id = export_storage(api, project_id, s3_endpoint, bucket, prefix="team/snapshots/")
    # 18 MiB in 1 MiB messages: three multipart parts of 8 MiB at most, never one body.
    chunks = [bytes([n]) * MIB for n in range(18)]

    written = stub(stack).WriteExportArtifact(
        messages(storage_id, project_id, "project-1-export-2.json", chunks), timeout=60
    )

    key = "team/snapshots/project-1-export-2.json"
    assert (written.key, written.uri, written.size) == (key, f"s3://{bucket}/{key}", 18 * MIB)
    body = b"".join(chunks)
    assert written.md5 == hashlib.md5(body, usedforsecurity=False).hexdigest()
    stored = s3.get_object(Bucket=bucket, Key=key)
    assert stored["Body"].read() == body
    assert stored["ETag"].strip('"').endswith("-3")  # a multipart upload of three parts
    # No task record was made for it: export storages' task objects are another matter.
    assert [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]


def test_export_storages_are_found_only_in_their_organization(
    api: Api, stack: Stack, s3_endpoint: str, bucket: str
) -> None:
    project_id = api.project()
    storage_id = export_storage(api, project_id, s3_endpoint, bucket)
    import_answer = api.create("s3", s3_body(project_id, s3_endpoint, bucket))
    assert import_answer.status_code == 201, import_answer.text
    organization_id = api.cast.owner.organization_id

    found = stub(stack).GetExportStorage(
        storage_pb2.GetExportStorageRequest(storage_id=storage_id, organization_id=organization_id),
        timeout=10,
    )
    assert (found.id, found.project_id, found.type, found.title) == (
        storage_id,
        project_id,
        "s3",
        "Images",
    )
    for request in (
        storage_pb2.GetExportStorageRequest(
            storage_id=storage_id, organization_id=api.cast.outsider.organization_id
        ),
        storage_pb2.GetExportStorageRequest(
            storage_id=import_answer.json()["id"], organization_id=organization_id
        ),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            stub(stack).GetExportStorage(request, timeout=10)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_bad_streams_are_refused_and_write_nothing(
    api: Api, stack: Stack, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    project_id = api.project()
    storage_id = export_storage(api, project_id, s3_endpoint, bucket, prefix="p")
    other_project = api.project()

    def refused(requests: Iterator[storage_pb2.WriteExportArtifactRequest]) -> grpc.RpcError:
        with pytest.raises(grpc.RpcError) as caught:
            stub(stack).WriteExportArtifact(requests, timeout=10)
        return caught.value

    headless = refused(iter([storage_pb2.WriteExportArtifactRequest(chunk=b"[]")]))
    assert headless.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "header" in (headless.details() or "")
    for name in ("../escape.json", "a/b.json", ""):
        bad_name = refused(messages(storage_id, project_id, name, [b"[]"]))
        assert bad_name.code() == grpc.StatusCode.INVALID_ARGUMENT, name
    elsewhere = refused(messages(storage_id, other_project, "x.json", [b"[]"]))
    assert elsewhere.code() == grpc.StatusCode.NOT_FOUND
    # A sender that stopped half-way (fewer bytes than its header says) publishes nothing.
    short = refused(messages(storage_id, project_id, "short.json", [b"[1, 2"], size=12 * MIB))
    assert short.code() == grpc.StatusCode.DATA_LOSS
    assert short.details() == f"5 bytes arrived, the snapshot file has {12 * MIB}"
    # ... also past a first multipart part already uploaded.
    parts = [b"x" * MIB] * 9
    cut = refused(messages(storage_id, project_id, "cut.json", parts, size=10 * MIB))
    assert cut.code() == grpc.StatusCode.DATA_LOSS
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_every_storage_type_takes_a_snapshot_file(
    api: Api,
    stack: Stack,
    gcs_endpoint: str,
    azure_endpoint: str,
    redis_target: tuple[str, int],
) -> None:
    """GCS (fake-gcs-server), Azure Blob (Azurite), Redis and a local directory, each
    through its own client wrapper, under its prefix (a local directory is its own)."""
    project_id = api.project()
    gcs_bucket = f"bucket-{uuid.uuid4().hex[:12]}"
    gcs_storage.Client(project="test", credentials=AnonymousCredentials()).create_bucket(gcs_bucket)
    azure = BlobServiceClient.from_connection_string(
        emulators.azurite_connection_string(azure_endpoint)
    )
    container = f"box-{uuid.uuid4().hex[:12]}"
    azure.create_container(container)
    directory = stack.document_root / f"exports-{project_id}"
    directory.mkdir()
    host, port = redis_target
    redis_prefix = f"x-{uuid.uuid4().hex[:8]}"
    bodies: dict[str, dict[str, Any]] = {
        "gcs": {
            "bucket": gcs_bucket,
            "prefix": "snapshots",
            "google_application_credentials": service_account_json(),
        },
        "azure": {
            "container": container,
            "prefix": "snapshots",
            "connection_string": emulators.azurite_connection_string(azure_endpoint),
        },
        "redis": {
            "host": host,
            "port": port,
            "db": 4,
            "path": redis_prefix,
            "password": REDIS_PASSWORD,
        },
        "localfiles": {"path": str(directory)},
    }
    body = b"".join(bytes([n]) * 300_000 for n in range(7))  # 2.1 MB in 7 chunks
    chunks = [body[n : n + 300_000] for n in range(0, len(body), 300_000)]
    written: dict[str, Any] = {}
    for kind, fields in bodies.items():
        answer = api.create(kind, {"project": project_id, **fields}, export=True)
        assert answer.status_code == 201, (kind, answer.text)
        written[kind] = stub(stack).WriteExportArtifact(
            messages(answer.json()["id"], project_id, "project-7-export-9.json", chunks),
            timeout=60,
        )
        assert written[kind].size == len(body), kind
        assert written[kind].md5 == hashlib.md5(body, usedforsecurity=False).hexdigest(), kind

    name = "project-7-export-9.json"
    gcs_blob = gcs_storage.Client(project="test", credentials=AnonymousCredentials()).bucket(
        gcs_bucket
    )
    assert written["gcs"].uri == f"gs://{gcs_bucket}/snapshots/{name}"
    assert gcs_blob.blob(f"snapshots/{name}").download_as_bytes() == body
    assert written["azure"].uri == f"azure-blob://{container}/snapshots/{name}"
    blob = azure.get_container_client(container).download_blob(f"snapshots/{name}")
    assert blob.readall() == body
    client = redis.Redis(host=host, port=port, db=4, password=REDIS_PASSWORD)
    assert client.get(f"{redis_prefix}/{name}") == body
    assert (directory / name).read_bytes() == body
    assert written["localfiles"].key == name

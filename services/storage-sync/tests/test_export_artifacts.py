"""`StorageService.GetExportStorage` and `WriteExportArtifact`: export-svc's snapshot files,
streamed over gRPC into an export storage under its prefix (moto's S3)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from labelops.storage.v1 import storage_pb2, storage_pb2_grpc
from labelops_common.grpcutil import grpc_channel

from .conftest import Api, Stack, s3_body

MIB = 1024 * 1024


def stub(stack: Stack) -> storage_pb2_grpc.StorageServiceStub:
    return storage_pb2_grpc.StorageServiceStub(
        grpc_channel(stack.common.peer_address("storage-sync"), retries=False)
    )


def messages(
    storage_id: int, project_id: int, name: str, chunks: list[bytes]
) -> Iterator[storage_pb2.WriteExportArtifactRequest]:
    yield storage_pb2.WriteExportArtifactRequest(
        header=storage_pb2.ExportArtifactHeader(
            storage_id=storage_id, project_id=project_id, name=name
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
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0

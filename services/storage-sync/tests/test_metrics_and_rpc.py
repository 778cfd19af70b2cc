"""The monitoring contract's storage figures on `/metrics`, and `StorageService.ResolveUris`."""

from __future__ import annotations

import re
from typing import Any

import grpc
import httpx
from labelops.storage.v1 import storage_pb2, storage_pb2_grpc
from labelops_common.grpcutil import grpc_channel
from labelops_common.observability.metrics import metrics_registry
from prometheus_client import generate_latest

from .conftest import Api, Stack, s3_body


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus' text format, or None."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}", 1)[0]))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_sync_figures_and_lag_are_exposed(
    api: Api, stack: Stack, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    def metrics() -> str:
        # What `/metrics` answers a scraper (the test client has no address it trusts).
        return generate_latest(metrics_registry()).decode()

    before = metrics()
    listed_before = sample(before, "labelops_storage_objects_listed_total", storage_type="s3") or 0
    synced_before = sample(before, "labelops_storage_objects_synced_total", storage_type="s3") or 0
    for n in range(3):
        s3.put_object(Bucket=bucket, Key=f"m/{n}.jpg", Body=b"x")
    s3.put_object(Bucket=bucket, Key="m/skip.txt", Body=b"x")
    project_id = api.project()
    storage = api.create(
        "s3",
        s3_body(
            project_id, s3_endpoint, bucket, prefix="m", use_blob_urls=True, regex_filter=r".*jpg"
        ),
    ).json()
    lag_before_sync = sample(
        metrics(),
        "labelops_storage_sync_lag_seconds",
        storage_type="s3",
        storage=str(storage["id"]),
    )
    assert lag_before_sync is not None and lag_before_sync >= 0
    api.sync("s3", storage["id"])
    after = metrics()
    assert (
        sample(after, "labelops_storage_objects_listed_total", storage_type="s3")
        == listed_before + 4
    )
    assert (
        sample(after, "labelops_storage_objects_synced_total", storage_type="s3")
        == synced_before + 3
    )
    lag = sample(
        after, "labelops_storage_sync_lag_seconds", storage_type="s3", storage=str(storage["id"])
    )
    assert lag is not None and lag < 60
    errors_before = (
        sample(
            after, "labelops_storage_sync_errors_total", storage_type="s3", operation="import_sync"
        )
        or 0
    )
    # A task object that is not JSON fails the next sync, which counts as an error.
    s3.put_object(Bucket=bucket, Key="m/zz.json", Body=b"not json")
    api.stack.storage.patch(
        f"/api/storages/s3/{storage['id']}",
        json={"use_blob_urls": False, "regex_filter": r".*\.json$"},
        headers=api.cast.owner.headers,
    )
    failed = api.sync("s3", storage["id"])
    assert failed["status"] == "failed"
    assert "zz.json" in failed["traceback"]
    errors = sample(
        metrics(), "labelops_storage_sync_errors_total", storage_type="s3", operation="import_sync"
    )
    assert errors == errors_before + 1


def test_resolve_uris_presigns_through_a_storage_of_the_project(
    api: Api, stack: Stack, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="r/a.jpg", Body=b"resolved")
    project_id = api.project()
    api.create("s3", s3_body(project_id, s3_endpoint, bucket, presign_ttl=2))
    other_project = api.project()
    stub = storage_pb2_grpc.StorageServiceStub(
        grpc_channel(stack.common.peer_address("storage-sync"))
    )
    answer = stub.ResolveUris(
        storage_pb2.ResolveUrisRequest(
            project_id=project_id,
            uris=[f"s3://{bucket}/r/a.jpg", "s3://another-bucket/x.jpg", "gs://nothing/y"],
        ),
        timeout=10,
    )
    first, second, third = answer.resolved
    assert first.error == "" and "X-Amz-Expires=120" in first.url
    assert httpx.get(first.url).content == b"resolved"
    assert second.url == "" and "no storage" in second.error
    assert third.url == ""
    # A URI of a bucket another project holds is not this project's to resolve.
    elsewhere = stub.ResolveUris(
        storage_pb2.ResolveUrisRequest(project_id=other_project, uris=[f"s3://{bucket}/r/a.jpg"]),
        timeout=10,
    )
    assert elsewhere.resolved[0].url == ""
    try:
        stub.ResolveUris(
            storage_pb2.ResolveUrisRequest(project_id=999_999, uris=["s3://a/b"]), timeout=10
        )
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.NOT_FOUND
    else:
        raise AssertionError("an unknown project must be NOT_FOUND")

"""Storage URIs in task data reach `/predict` as URLs resolved by storage-sync's
`ResolveUris`, and as they are when storage-sync cannot resolve them."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from labelops.storage.v1 import storage_pb2, storage_pb2_grpc
from labelops_common.grpcutil import build_grpc_server
from labelops_testing.ml_backend import ProtocolBackend
from ml_gateway.predictions.media import replaced, storage_uris

from .conftest import World


class StorageSync(storage_pb2_grpc.StorageServiceServicer):
    """storage-sync's side of the contract, answering from a fixed table."""

    def __init__(self) -> None:
        self.requests: list[storage_pb2.ResolveUrisRequest] = []

    def ResolveUris(
        self, request: storage_pb2.ResolveUrisRequest, context: grpc.ServicerContext
    ) -> storage_pb2.ResolveUrisResponse:
        self.requests.append(request)
        answer = storage_pb2.ResolveUrisResponse()
        for uri in request.uris:
            if "missing" in uri:
                answer.resolved.add(uri=uri, error="no storage of the project holds it")
            else:
                answer.resolved.add(uri=uri, url="https://signed.example/" + uri.split("/")[-1])
        return answer


@pytest.fixture()
def storage_sync(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[StorageSync]:
    servicer = StorageSync()
    address = world.stack.common.peer_address("storage-sync")
    handle = build_grpc_server(
        service_name="storage-sync",
        bind=address,
        register=[
            lambda server: storage_pb2_grpc.add_StorageServiceServicer_to_server(servicer, server)
        ],
        service_full_names=("labelops.storage.v1.StorageService",),
    )
    handle.start()
    resolver = world.stack.ml_runtime.http_app.state.task_store._media
    monkeypatch.setattr(resolver, "_quiet_until", 0.0)
    try:
        yield servicer
    finally:
        handle.stop(grace=0)


def test_storage_uris_are_resolved_before_predict(
    world: World, backend: ProtocolBackend, storage_sync: StorageSync
) -> None:
    world.tasks_with(
        {"text": "good", "image": "s3://bucket/cat.jpg", "extra": ["gs://b/x.png", 3]},
        {"text": "bad", "image": "s3://bucket/missing.jpg"},
    )
    world.connect(backend)
    job = world.wait_job(world.retrieve()["job"])
    assert job.predicted == 2
    sent = {
        t["data"]["text"]: t["data"] for c in backend.calls("/predict") for t in c.body["tasks"]
    }
    assert sent["good"]["image"] == "https://signed.example/cat.jpg"
    assert sent["good"]["extra"] == ["https://signed.example/x.png", 3]
    assert sent["bad"]["image"] == "s3://bucket/missing.jpg"  # not resolvable: sent as is
    assert storage_sync.requests[0].project_id == world.project
    assert storage_sync.requests[0].ttl_seconds == 3600


def test_without_storage_sync_tasks_go_as_they_are(world: World, backend: ProtocolBackend) -> None:
    world.tasks_with({"text": "good", "image": "s3://bucket/cat.jpg"})
    world.connect(backend)
    job = world.wait_job(world.retrieve()["job"])
    assert job.predicted == 1
    assert backend.calls("/predict")[0].body["tasks"][0]["data"]["image"] == "s3://bucket/cat.jpg"


def test_uri_walk() -> None:
    data = {"a": "s3://b/k", "b": ["gs://c/d", {"e": "azure-blob://f/g"}], "h": "http://x/s3://"}
    assert storage_uris(data) == ["s3://b/k", "gs://c/d", "azure-blob://f/g"]
    assert replaced(data, {"gs://c/d": "https://u"})["b"][0] == "https://u"

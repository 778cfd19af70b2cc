"""The gRPC helpers against a real server on loopback: health, reflection, deadlines, retries, metrics."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from labelops.task.v1 import task_pb2, task_pb2_grpc
from labelops_common.grpcutil import GrpcServerHandle, build_grpc_server, peer_stub
from labelops_common.observability.health import grpc_peer_check
from prometheus_client import REGISTRY

TASK_SERVICE = "labelops.task.v1.TaskService"


class FlakyTaskServicer(task_pb2_grpc.TaskServiceServicer):
    """Answers UNAVAILABLE `failures` times, then counts; sleeps `delay` seconds per call."""

    def __init__(self, *, failures: int = 0, delay: float = 0.0) -> None:
        self.failures = failures
        self.delay = delay
        self.calls = 0
        self._lock = threading.Lock()

    def GetProjectCounts(self, request, context):
        with self._lock:
            self.calls += 1
            failing = self.calls <= self.failures
        if failing:
            context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
        time.sleep(self.delay)
        return task_pb2.GetProjectCountsResponse(
            counts=[
                task_pb2.ProjectCounts(project_id=pid, task_number=pid * 10)
                for pid in request.project_ids
            ]
        )


def serve(servicer: FlakyTaskServicer, *, reflection_enabled: bool = True) -> GrpcServerHandle:
    handle = build_grpc_server(
        service_name="test-svc",
        bind="127.0.0.1:0",
        register=[lambda server: task_pb2_grpc.add_TaskServiceServicer_to_server(servicer, server)],
        service_full_names=[TASK_SERVICE],
        reflection_enabled=reflection_enabled,
    )
    handle.start()
    return handle


@pytest.fixture()
def flaky() -> Iterator[tuple[FlakyTaskServicer, GrpcServerHandle]]:
    servicer = FlakyTaskServicer(failures=2)
    handle = serve(servicer)
    yield servicer, handle
    handle.stop(0)


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_health_follows_the_serving_flag(flaky) -> None:
    _, handle = flaky
    with grpc.insecure_channel(handle.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        assert (
            health.Check(health_pb2.HealthCheckRequest(service=TASK_SERVICE), timeout=2).status
            == health_pb2.HealthCheckResponse.SERVING
        )
        grpc_peer_check(handle.address)()
        handle.set_serving(False)
        assert (
            health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2).status
            == health_pb2.HealthCheckResponse.NOT_SERVING
        )
        with pytest.raises(RuntimeError, match="not serving"):
            grpc_peer_check(handle.address)()


def test_reflection_lists_the_service_and_health(flaky) -> None:
    _, handle = flaky
    with grpc.insecure_channel(handle.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        answers = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=2
        )
        names = {
            service.name for answer in answers for service in answer.list_services_response.service
        }
    assert {TASK_SERVICE, "grpc.health.v1.Health"} <= names


def test_reflection_is_off_unless_asked_for() -> None:
    handle = serve(FlakyTaskServicer(failures=0), reflection_enabled=False)
    try:
        with grpc.insecure_channel(handle.address) as channel:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            answers = stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=2
            )
            with pytest.raises(grpc.RpcError) as failed:
                list(answers)
        assert failed.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        handle.stop(0)


def test_unavailable_is_retried_and_counted_once(flaky) -> None:
    servicer, handle = flaky
    labels = {"grpc_service": TASK_SERVICE, "grpc_method": "GetProjectCounts", "grpc_code": "OK"}
    client_before = sample("labelops_grpc_client_handled_total", labels)
    server_unavailable = {**labels, "grpc_code": "UNAVAILABLE"}
    server_failed_before = sample("labelops_grpc_server_handled_total", server_unavailable)
    stub = peer_stub(task_pb2_grpc.TaskServiceStub, target=handle.address, deadline_seconds=5)
    answer = stub.GetProjectCounts(task_pb2.GetProjectCountsRequest(project_ids=[1, 2]))
    assert [c.task_number for c in answer.counts] == [10, 20]
    assert servicer.calls == 3
    assert sample("labelops_grpc_client_handled_total", labels) == client_before + 1
    assert (
        sample("labelops_grpc_server_handled_total", server_unavailable) == server_failed_before + 2
    )


def test_every_call_gets_the_default_deadline() -> None:
    servicer = FlakyTaskServicer(delay=1.0)
    handle = serve(servicer)
    try:
        stub = peer_stub(task_pb2_grpc.TaskServiceStub, target=handle.address, deadline_seconds=0.2)
        started = time.perf_counter()
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetProjectCounts(task_pb2.GetProjectCountsRequest(project_ids=[1]))
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert time.perf_counter() - started < 0.9
        # an explicit timeout still wins
        assert stub.GetProjectCounts(
            task_pb2.GetProjectCountsRequest(project_ids=[1]), timeout=5
        ).counts
    finally:
        handle.stop(0)


def test_a_peer_that_never_comes_up_fails_as_unavailable() -> None:
    stub = peer_stub(task_pb2_grpc.TaskServiceStub, target="127.0.0.1:9", deadline_seconds=3)
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetProjectCounts(task_pb2.GetProjectCountsRequest(project_ids=[1]))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


class StreamingTaskServicer(task_pb2_grpc.TaskServiceServicer):
    """Streams two batches of task ids, the way `StreamTasks` does."""

    def StreamTasks(self, request, context):
        yield task_pb2.TaskBatch(tasks=[task_pb2.Task(id=1), task_pb2.Task(id=2)])
        yield task_pb2.TaskBatch(tasks=[task_pb2.Task(id=3)])


@pytest.mark.parametrize("opentelemetry", [False, True], ids=["plain", "with-opentelemetry"])
def test_a_server_stream_is_read_whole_and_counted_when_it_ends(opentelemetry: bool) -> None:
    """With OpenTelemetry's client instrumentation the call reaches our metrics interceptor as
    a plain iterator, not a call object; it must still stream and still be counted."""
    from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient

    instrumentor = GrpcInstrumentorClient()
    handle = build_grpc_server(
        service_name="test-svc",
        bind="127.0.0.1:0",
        register=[
            lambda server: task_pb2_grpc.add_TaskServiceServicer_to_server(
                StreamingTaskServicer(), server
            )
        ],
        service_full_names=[TASK_SERVICE],
    )
    handle.start()
    if opentelemetry:
        instrumentor.instrument()
    try:
        labels = {"grpc_service": TASK_SERVICE, "grpc_method": "StreamTasks", "grpc_code": "OK"}
        before = sample("labelops_grpc_client_handled_total", labels)
        stub = peer_stub(task_pb2_grpc.TaskServiceStub, target=handle.address, deadline_seconds=5)
        batches = stub.StreamTasks(task_pb2.StreamTasksRequest(project_id=1))
        ids = [task.id for batch in batches for task in batch.tasks]
        assert ids == [1, 2, 3]
        assert sample("labelops_grpc_client_handled_total", labels) == before + 1
    finally:
        if opentelemetry:
            instrumentor.uninstrument()
        handle.stop(0)

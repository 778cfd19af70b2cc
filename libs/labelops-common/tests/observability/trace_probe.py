"""Serves one HTTP route that calls a gRPC peer, with tracing on, and prints the spans as JSON."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from labelops.task.v1 import task_pb2, task_pb2_grpc
from labelops_common.grpcutil import build_grpc_server, peer_stub
from labelops_common.http.app import create_service_app
from labelops_common.http.routing import ApiRouter
from labelops_common.observability.tracing import instrument_grpc
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
instrument_grpc()


class Counts(task_pb2_grpc.TaskServiceServicer):
    def GetProjectCounts(self, request, context):
        return task_pb2.GetProjectCountsResponse()


handle = build_grpc_server(
    service_name="probe",
    bind="127.0.0.1:0",
    register=[lambda server: task_pb2_grpc.add_TaskServiceServicer_to_server(Counts(), server)],
    service_full_names=["labelops.task.v1.TaskService"],
)
handle.start()
stub = peer_stub(task_pb2_grpc.TaskServiceStub, target=handle.address, deadline_seconds=5)
router = ApiRouter()


def counts() -> dict[str, int]:
    stub.GetProjectCounts(task_pb2.GetProjectCountsRequest(project_ids=[1]))
    return {"ok": 1}


router.add_api_route("/api/counts", counts, methods=["GET"])
app = create_service_app(
    service_name="probe",
    routers=[router],
    secret_key="x" * 32,
    legacy_token_resolver=lambda token: None,
    readiness_checks={},
)
assert TestClient(app).get("/api/counts").status_code == 200
handle.stop(0)
provider.force_flush()
print(
    json.dumps(
        [
            {
                "name": span.name,
                "kind": str(span.kind),
                "trace_id": format(span.context.trace_id, "032x"),
            }
            for span in exporter.get_finished_spans()
        ]
    )
)

"""Metrics per route template, readiness that hides internals, JSON logs carrying the trace id,
and one trace across HTTP → gRPC."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
import uvicorn
from fastapi import Request
from fastapi.testclient import TestClient
from labelops_common.grpcutil import PeerError
from labelops_common.http.app import create_service_app
from labelops_common.http.routing import ApiRouter
from labelops_common.observability.logging import JsonFormatter
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from prometheus_client import REGISTRY

SERVICE = "observability-test"


def failing_check() -> None:
    raise ConnectionError("could not reach postgresql://labelops:hunter2@db:5432/x token=abc")


@pytest.fixture()
def client() -> TestClient:
    router = ApiRouter()

    def get_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    def peer_down() -> None:
        raise PeerError(service="task-svc", code=grpc.StatusCode.UNAVAILABLE, details="db host x")

    def peer_broken() -> None:
        raise PeerError(service="task-svc", code=grpc.StatusCode.INTERNAL, details="table y")

    def crash() -> None:
        raise RuntimeError("secret internals")

    def client_port(request: Request) -> dict[str, int]:
        assert request.client is not None
        return {"port": request.client.port}

    router.add_api_route("/api/items/{item_id}", get_item, methods=["GET"])
    router.add_api_route("/api/peer-down", peer_down, methods=["GET"])
    router.add_api_route("/api/peer-broken", peer_broken, methods=["GET"])
    router.add_api_route("/api/crash", crash, methods=["GET"])
    router.add_api_route("/api/client-port", client_port, methods=["GET"])
    app = create_service_app(
        service_name=SERVICE,
        routers=[router],
        secret_key="x" * 32,
        legacy_token_resolver=lambda token: None,
        readiness_checks={"database": lambda: None, "broker": failing_check},
    )
    # A scraper on this machine (the default client of TestClient has no address).
    return TestClient(app, raise_server_exceptions=False, client=("127.0.0.1", 50000))


def requests_total(route: str, status: str) -> float:
    labels = {"service": SERVICE, "method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("labelops_http_requests_total", labels) or 0.0


def test_metrics_use_the_route_template(client: TestClient) -> None:
    before = requests_total("/api/items/{item_id}", "200")
    for item_id in (1, 2, 3):
        assert client.get(f"/api/items/{item_id}/").status_code == 200
    assert requests_total("/api/items/{item_id}", "200") == before + 3
    exposition = client.get("/metrics").text
    assert 'route="/api/items/{item_id}"' in exposition
    assert 'route="/api/items/1"' not in exposition


@pytest.mark.parametrize(
    ("address", "status"),
    [
        ("127.0.0.1", 200),
        ("::1", 200),
        ("10.4.0.7", 200),  # a cluster's Prometheus
        ("203.0.113.9", 404),  # anyone else
        ("2001:db8::1", 404),
        ("testclient", 404),  # no address at all
    ],
)
def test_metrics_answer_scrapers_on_private_networks_only(
    client: TestClient, address: str, status: int
) -> None:
    other = TestClient(client.app, raise_server_exceptions=False, client=(address, 50000))
    answer = other.get("/metrics")
    assert answer.status_code == status
    assert ("labelops_http_requests_total" in answer.text) is (status == 200)


def test_readyz_reports_failures_without_secrets(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["broker"].startswith("ConnectionError")
    assert "hunter2" not in response.text and "abc" not in response.text


def test_peer_failures_become_503_or_502_without_details(client: TestClient) -> None:
    down = client.get("/api/peer-down")
    assert down.status_code == 503
    assert down.headers["retry-after"] == "1"
    assert down.json()["detail"] == "task-svc is unavailable, try again later."
    broken = client.get("/api/peer-broken")
    assert broken.status_code == 502
    assert "table y" not in broken.text and "db host x" not in down.text


def test_unhandled_errors_leak_no_internals(client: TestClient) -> None:
    response = client.get("/api/crash")
    assert response.status_code == 500
    assert response.json()["detail"] == "Internal server error"
    assert "secret internals" not in response.text and "Traceback" not in response.text


@pytest.fixture()
def served(client: TestClient) -> Iterator[str]:
    """The same app behind a real uvicorn, on a loopback port; its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(client.app, log_config=None, lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started
    host, port = sock.getsockname()
    yield f"http://{host}:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def test_an_unhandled_error_keeps_the_connection_for_the_next_request(served: str) -> None:
    """The 500 is Label Studio's body, counted like any answer, and the next request goes
    on the same connection (the client's port is the same): the server did not close it,
    so a request sent right after the 500 cannot meet a reset."""
    before = requests_total("/api/crash", "500")
    with httpx.Client(base_url=served) as http:
        port = http.get("/api/client-port").json()["port"]
        crashed = http.get("/api/crash")
        assert crashed.status_code == 500
        assert crashed.json()["detail"] == "Internal server error"
        assert "secret internals" not in crashed.text
        assert crashed.headers.get("connection") != "close"
        assert http.get("/api/client-port").json()["port"] == port
    assert requests_total("/api/crash", "500") == before + 1


def test_json_log_lines_carry_the_trace_id_and_redact_secrets() -> None:
    formatter = JsonFormatter(service=SERVICE)
    context = SpanContext(
        trace_id=0x1234, span_id=0x99, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED)
    )
    record = logging.makeLogRecord(
        {
            "msg": "synced %s",
            "args": ("bucket",),
            "levelname": "INFO",
            "token": "t0p",
            "project_id": 7,
        }
    )
    with trace.use_span(NonRecordingSpan(context)):
        line = json.loads(formatter.format(record))
    assert line["message"] == "synced bucket"
    assert line["trace_id"] == format(0x1234, "032x")
    assert line["token"] == "[redacted]"
    assert line["project_id"] == 7
    assert line["service"] == SERVICE


def test_one_trace_spans_http_and_grpc() -> None:
    """In its own process, because OpenTelemetry's tracer provider can be set only once."""
    probe = Path(__file__).with_name("trace_probe.py")
    result = subprocess.run(
        [sys.executable, str(probe)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    spans = json.loads(result.stdout.strip().splitlines()[-1])
    kinds = {span["kind"] for span in spans}
    assert {"SpanKind.SERVER", "SpanKind.CLIENT"} <= kinds
    assert len({span["trace_id"] for span in spans}) == 1, spans
    grpc_server = [
        s
        for s in spans
        if s["name"].endswith("GetProjectCounts") and s["kind"] == "SpanKind.SERVER"
    ]
    assert grpc_server, spans

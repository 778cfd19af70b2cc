"""RED metrics per HTTP route template, and the `/metrics` endpoint."""

from __future__ import annotations

import ipaddress
import os
import time

from fastapi import FastAPI
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labelops_common.http.errors import error_response
from labelops_common.settings import get_common_settings

HTTP_REQUESTS = Counter(
    "labelops_http_requests_total",
    "HTTP requests answered, by route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "labelops_http_request_duration_seconds",
    "HTTP request latency by route template.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
HTTP_IN_PROGRESS = Gauge(
    "labelops_http_requests_in_progress",
    "HTTP requests being served.",
    ["service", "method"],
    # Under `serve --processes N`, the sum over the live processes.
    multiprocess_mode="livesum",
)

UNMATCHED_ROUTE = "<unmatched>"


class PrometheusHTTPMiddleware:
    """A pure ASGI middleware, so streamed downloads are measured without being buffered.

    The route label is the matched template (`/api/projects/{project_id}`), never the raw
    path, so the number of series stays bounded.
    """

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == "/metrics":
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        in_progress = HTTP_IN_PROGRESS.labels(self.service, method)
        in_progress.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            in_progress.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED_ROUTE
            if template != "/" and template.endswith("/"):
                template = template.rstrip("/")
            HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
            HTTP_DURATION.labels(self.service, method, template).observe(
                time.perf_counter() - started
            )


def metrics_response() -> Response:
    return Response(generate_latest(metrics_registry()), media_type=CONTENT_TYPE_LATEST)


def _client_in(
    request: Request, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a Unix socket or a test client: no address to trust
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def metrics_registry() -> CollectorRegistry:
    """This process's registry, or every server process's samples under `--processes N`.

    `labelops serve --processes N` sets PROMETHEUS_MULTIPROC_DIR for its children, where
    each keeps its samples in files; a scrape of any child then reads them all.
    """
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def add_metrics_route(app: FastAPI) -> None:
    """`/metrics`, for scrapers on the cluster's network or this machine only.

    A service's HTTP port also serves the API; in single-process mode it is the one port a
    user reaches. Route names, queue depths and error rates are no business of a client on
    the internet, so other addresses get the 404 of an unknown path
    (`LABELOPS_METRICS_ALLOW_NETWORKS`; behind a proxy the address is the forwarded one).
    """
    networks = [
        ipaddress.ip_network(network) for network in get_common_settings().metrics_allow_networks
    ]

    async def metrics(request: Request) -> Response:
        if not _client_in(request, networks):
            return error_response(404, "Not found.")
        return metrics_response()

    app.add_route("/metrics", metrics, methods=["GET"], include_in_schema=False)

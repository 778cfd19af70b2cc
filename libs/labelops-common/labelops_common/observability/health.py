"""`/healthz` (the process is alive) and `/readyz` (its database, broker and peers answer)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

ReadinessCheck = Callable[[], None]
CHECK_TIMEOUT_SECONDS = 2.0
_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readyz")


def _reason(exc: BaseException) -> str:
    """A short reason with anything that looks like a URL or credential removed."""
    message = re.sub(r"\S+://\S+", "<url>", str(exc))
    message = re.sub(r"(?i)(password|secret|token)=\S+", r"\1=<redacted>", message)
    return f"{type(exc).__name__}: {message}"[:200]


def run_checks(checks: Mapping[str, ReadinessCheck]) -> dict[str, str]:
    futures = {name: _executor.submit(check) for name, check in checks.items()}
    results: dict[str, str] = {}
    for name, future in futures.items():
        try:
            future.result(timeout=CHECK_TIMEOUT_SECONDS)
            results[name] = "ok"
        except FutureTimeout:
            results[name] = "timed out"
        except Exception as exc:
            results[name] = _reason(exc)
    return results


def build_health_router(*, checks: Mapping[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    def readyz() -> JSONResponse:
        results = run_checks(checks)
        ready = all(value == "ok" for value in results.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": results},
            status_code=200 if ready else 503,
        )

    for path in ("/healthz", "/healthz/"):
        router.add_api_route(path, healthz, methods=["GET"])
    for path in ("/readyz", "/readyz/"):
        router.add_api_route(path, readyz, methods=["GET"])
    return router


def database_check(engine: Engine) -> ReadinessCheck:
    def check() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return check


def broker_check(broker_url: str) -> ReadinessCheck:
    def check() -> None:
        from kombu import Connection

        with Connection(broker_url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)

    return check


def grpc_peer_check(target: str) -> ReadinessCheck:
    def check() -> None:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        with grpc.insecure_channel(target) as channel:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=1.0
            )
        if response.status != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError("peer is not serving")

    return check

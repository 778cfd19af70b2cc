"""Body limits per route: refused before the app runs when declared, cut off when streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from labelops_runtime.body_limits import with_body_limits
from labelops_runtime.routes import (
    API_MAX_BODY_MIB,
    UPLOAD_MAX_BODY_MIB,
    max_body_bytes_for_path,
)
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MIB = 1024 * 1024


def _echo_app(seen: list[str]) -> Starlette:
    async def echo(request: Request) -> JSONResponse:
        try:
            body = await request.body()
        except ClientDisconnect:
            seen.append("disconnect")
            raise
        seen.append(f"read {len(body)}")
        return JSONResponse({"size": len(body)})

    return Starlette(routes=[Route("/{path:path}", echo, methods=["POST"])])


def _client(seen: list[str]) -> httpx.AsyncClient:
    limited = with_body_limits(_echo_app(seen), lambda path: 10 if path == "/small" else 1000)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://t")


async def _chunks(total: int, size: int = 4) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


@pytest.mark.anyio
async def test_a_body_within_the_limit_reaches_the_app() -> None:
    seen: list[str] = []
    async with _client(seen) as client:
        answer = await client.post("/small", content=b"0123456789")
    assert answer.status_code == 200
    assert answer.json() == {"size": 10}
    assert seen == ["read 10"]


@pytest.mark.anyio
async def test_a_declared_length_over_the_limit_is_refused_before_the_app_runs() -> None:
    seen: list[str] = []
    async with _client(seen) as client:
        answer = await client.post("/small", content=b"x" * 11)
        other = await client.post("/large", content=b"x" * 11)
    assert answer.status_code == 413
    assert "larger than" in answer.json()["detail"]
    assert other.status_code == 200
    assert seen == ["read 11"]  # only the second request reached the app


@pytest.mark.anyio
async def test_a_streamed_body_is_cut_off_at_the_limit() -> None:
    seen: list[str] = []
    async with _client(seen) as client:
        answer = await client.post("/small", content=_chunks(40))
        within = await client.post("/small", content=_chunks(8))
    assert answer.status_code == 413
    assert within.status_code == 200
    assert seen == ["disconnect", "read 8"]


def test_the_route_table_gives_imports_the_upload_limit_and_everything_else_the_api_one() -> None:
    assert max_body_bytes_for_path("/api/projects/3/import") == UPLOAD_MAX_BODY_MIB * MIB
    assert max_body_bytes_for_path("/api/import/file-upload/9") == UPLOAD_MAX_BODY_MIB * MIB
    for path in ("/api/projects/3/tasks", "/api/tasks/1/annotations", "/api/projects", "/x"):
        assert max_body_bytes_for_path(path) == API_MAX_BODY_MIB * MIB


@pytest.mark.anyio
async def test_the_single_process_dispatcher_applies_each_route_s_limit() -> None:
    """A declared 200 MiB annotation is refused; the same size as an import reaches task-svc."""
    seen: list[str] = []
    from fastapi import FastAPI
    from labelops_runtime.dispatcher import RouteTableDispatcher

    dispatcher = RouteTableDispatcher(services={"task-svc": _echo_app(seen)}, process_app=FastAPI())

    async def status_of(path: str, declared: int) -> int:
        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"content-length", str(declared).encode())],
            "http_version": "1.1",
            "scheme": "http",
            "server": ("t", 80),
            "client": ("127.0.0.1", 1),
        }
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        await dispatcher(scope, receive, send)
        status = sent[0]["status"]
        assert isinstance(status, int)
        return status

    assert await status_of("/api/tasks/1/annotations", 200 * MIB) == 413
    assert seen == []
    assert await status_of("/api/projects/1/import", 200 * MIB) == 200
    assert seen == ["read 2"]

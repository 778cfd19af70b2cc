"""The single-process HTTP front: one port, every service's app, chosen by the route table.

It plays the part nginx plays in production, security headers and body limits included:
services' answers get the API's headers (labelops_runtime.security_headers) and body limits
(labelops_runtime.body_limits), the web app adds the page's headers. Process-wide endpoints
(`/metrics`, `/healthz`, `/readyz`) answer for the whole process rather than for one service.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import FastAPI
from labelops_common.http.errors import error_response
from starlette.types import ASGIApp, Receive, Scope, Send

from labelops_runtime.body_limits import with_body_limits
from labelops_runtime.routes import service_for_path
from labelops_runtime.security_headers import API_HEADERS, with_security_headers

#: Paths that belong to the process, not to a service.
PROCESS_PATHS = ("/metrics", "/healthz", "/readyz")


class RouteTableDispatcher:
    def __init__(
        self,
        *,
        services: Mapping[str, ASGIApp],
        process_app: FastAPI,
        fallback: ASGIApp | None = None,
        resolve: Callable[[str], str | None] = service_for_path,
    ) -> None:
        self._services = {
            name: with_security_headers(with_body_limits(app), API_HEADERS)
            for name, app in services.items()
        }
        self._process_app = with_security_headers(process_app, API_HEADERS)
        self._fallback = fallback
        self._resolve = resolve

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._process_app(scope, receive, send)
            return
        path: str = scope.get("path", "/")
        if path.rstrip("/") in PROCESS_PATHS:
            await self._process_app(scope, receive, send)
            return
        service = self._resolve(path)
        app = self._services.get(service) if service else None
        if app is None:
            app = self._fallback
        if app is None:
            if scope["type"] == "http":
                await with_security_headers(error_response(404, "Not found."), API_HEADERS)(
                    scope, receive, send
                )
            return
        await app(scope, receive, send)

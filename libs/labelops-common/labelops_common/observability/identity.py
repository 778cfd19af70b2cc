"""`X-LabelOps-Service` on every response, so an operator (and the edge tests) can tell
which service answered a request that went through nginx or an ingress."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SERVICE_HEADER = "X-LabelOps-Service"


class ServiceHeaderMiddleware:
    """A pure ASGI middleware (streamed downloads stay unbuffered) that names the service."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.header = (SERVICE_HEADER.lower().encode(), service.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, send_with_header)

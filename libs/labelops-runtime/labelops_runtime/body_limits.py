"""Request body limits per route, enforced by the app itself.

The edges (nginx, the chart's ingress) refuse large bodies too, but a service reached
without them — single-process mode, a port-forward, another ingress — must not read a
gigabyte into a JSON parser. The limit of a path is the route table's (`max_body_mib`). A
declared `Content-Length` over it is refused before the app runs; a chunked body is
counted as it streams and cut off at the limit: the caller gets a 413 and the app sees the
client disconnect, so nothing half-read is acted on.
"""

from __future__ import annotations

from collections.abc import Callable

from labelops_common.http.errors import error_response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labelops_runtime.routes import max_body_bytes_for_path


def with_body_limits(
    app: ASGIApp, limit_for: Callable[[str], int] = max_body_bytes_for_path
) -> ASGIApp:
    async def limited(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        limit = limit_for(scope.get("path", "/"))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0
        exceeded = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    if not response_started:
                        await _too_large(limit)(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded:
                return  # the 413 has been sent; the app's own answer is dropped
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
            # The app failed on the body it was cut off from (ClientDisconnect): answered.

    return limited


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _too_large(limit: int) -> ASGIApp:
    return error_response(413, f"The request body is larger than {limit // (1024 * 1024)} MiB.")

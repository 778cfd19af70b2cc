"""The response headers every edge adds: Content-Security-Policy and friends. The only copy.

Single-process mode adds them in Python (`with_security_headers`); the nginx edge and the
chart's ingress get rendered copies (`make routes` writes them, `make routes-check` fails
when they differ), so the three cannot drift.

Pages of the web app get `PAGE_HEADERS`; everything a service answers (JSON, uploaded
files, media) gets `API_HEADERS`, which allows nothing, so a file served from the API that
a browser opens as a page can neither run script nor be framed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The web app's policy, directive by directive, with why each source is allowed.
PAGE_CSP_DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    # No inline script and no eval: the app is Vite's module bundle and the Label Studio
    # editor is a plain script from /vendor/label-studio/, both files of our own origin.
    ("script-src", "'self'"),
    # The editor (1.4.0) sets style attributes in markup and adds <style> elements at run
    # time (its React components and the canvas library), so inline styles are allowed;
    # styles cannot run script.
    ("style-src", "'self' 'unsafe-inline'"),
    # Task images, audio and video come from our own paths, data:/blob: URLs the editor
    # makes (region thumbnails, decoded audio), and presigned object-storage URLs (S3, GCS,
    # Azure), whose hosts are the install's own and change per bucket, hence https:.
    ("img-src", "'self' data: blob: https:"),
    ("media-src", "'self' data: blob: https:"),
    # The editor fetches audio for its waveform and HyperText/Text given as URLs, from the
    # same presigned storage URLs.
    ("connect-src", "'self' https:"),
    ("font-src", "'self' data:"),
    ("object-src", "'none'"),
    ("frame-src", "'none'"),
    ("worker-src", "'self' blob:"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'none'"),
)
PAGE_CSP = "; ".join(f"{name} {sources}" for name, sources in PAGE_CSP_DIRECTIVES)
#: API answers are data, never pages: nothing may load, nobody may frame them.
API_CSP = "default-src 'none'; frame-ancestors 'none'"

#: Sent with both policies. X-Frame-Options repeats frame-ancestors for older browsers.
COMMON_HEADERS: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
PAGE_HEADERS: Mapping[str, str] = {"Content-Security-Policy": PAGE_CSP, **COMMON_HEADERS}
API_HEADERS: Mapping[str, str] = {"Content-Security-Policy": API_CSP, **COMMON_HEADERS}


def with_security_headers(app: ASGIApp, headers: Mapping[str, str]) -> ASGIApp:
    """`app` with `headers` added to every HTTP answer that does not set them itself."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                for name, value in headers.items():
                    if name not in answer:
                        answer[name] = value
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped


def render_security_headers(fmt: str) -> str:
    """The headers for the edges: `json` for the chart, `nginx` for the web container."""
    if fmt == "json":
        return json.dumps({"page": dict(PAGE_HEADERS), "api": dict(API_HEADERS)}, indent=2) + "\n"
    if fmt == "nginx":
        lines = [
            "# Generated from labelops_runtime/security_headers.py by `make routes`; do not edit.",
            "# The web app's page headers, included by each location of the web container.",
        ]
        lines += [f'add_header {name} "{value}" always;' for name, value in PAGE_HEADERS.items()]
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r}")

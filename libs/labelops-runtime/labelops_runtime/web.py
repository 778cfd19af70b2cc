"""The built web app, served at `/` by single-process mode (in Kubernetes a static Deployment does it).

Paths that name a file are served from the build; any other path is one of the app's own
pages, so it gets `index.html` and the app's router takes over. Hashed assets are cached
for a year; `index.html` never, so a new build is picked up on the next load.
"""

from __future__ import annotations

from pathlib import Path

from labelops_common.http.errors import error_response
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from labelops_runtime.security_headers import API_HEADERS, PAGE_HEADERS, with_security_headers

_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"


class SinglePageAppFiles(StaticFiles):
    """Starlette's static files (which refuse paths outside the root) with the app's fallback."""

    def __init__(self, *, directory: Path) -> None:
        super().__init__(directory=directory, html=False, check_dir=True)
        self._index = directory / "index.html"

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            last_segment = path.rstrip("/").rsplit("/", 1)[-1]
            names_a_file = "." in last_segment and last_segment != "."
            if exc.status_code != 404 or names_a_file:
                return error_response(exc.status_code, str(exc.detail), headers=exc.headers)
            response = FileResponse(self._index, media_type="text/html")
            response.headers["Cache-Control"] = _REVALIDATE
            return response
        if path.startswith("assets/"):
            response.headers["Cache-Control"] = _IMMUTABLE
        else:
            response.headers["Cache-Control"] = _REVALIDATE
        return response


def web_app(web_dir: Path) -> ASGIApp:
    """The static app when the UI is built, or a clear 404 saying how to build it.

    API paths no service claims stay JSON 404s; they never fall through to the app's page.
    Every answer carries the page's Content-Security-Policy (an API 404, the API's).
    """
    files: ASGIApp | None = None
    if (web_dir / "index.html").is_file():
        files = SinglePageAppFiles(directory=web_dir)
    not_built = f"The web app is not built in {web_dir}: run `make web`."

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope.get("path", "/")
        if path == "/api" or path.startswith("/api/"):
            await with_security_headers(error_response(404, "Not found."), API_HEADERS)(
                scope, receive, send
            )
        elif files is None:
            await error_response(404, not_built)(scope, receive, send)
        else:
            await files(scope, receive, send)

    return with_security_headers(serve, PAGE_HEADERS)

"""The single-process front serves the built web app at `/` with the app's page fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from labelops_runtime.dispatcher import RouteTableDispatcher
from labelops_runtime.security_headers import API_CSP, PAGE_CSP
from labelops_runtime.web import web_app
from starlette.types import Receive, Scope, Send


@pytest.fixture()
def built(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<html>app</html>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path.parent / "secret.txt").write_text("outside the root")
    return tmp_path


def test_files_are_served_and_hashed_assets_cached_for_long(built: Path) -> None:
    client = TestClient(web_app(built))
    asset = client.get("/assets/index-abc123.js")
    assert asset.status_code == 200
    assert asset.text == "console.log(1)"
    assert "immutable" in asset.headers["cache-control"]


def test_app_pages_get_the_index_without_caching(built: Path) -> None:
    client = TestClient(web_app(built))
    for path in ("/", "/projects", "/projects/12/data", "/sign-in"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.text == "<html>app</html>"
        assert page.headers["cache-control"] == "no-cache"


def test_missing_files_and_unknown_api_paths_are_404_not_the_page(built: Path) -> None:
    client = TestClient(web_app(built))
    assert client.get("/assets/missing-1234.js").status_code == 404
    api = client.get("/api/nothing-here")
    assert api.status_code == 404
    assert api.json()["detail"] == "Not found."


def test_paths_outside_the_build_are_refused(built: Path) -> None:
    client = TestClient(web_app(built))
    response = client.get("/../secret.txt")
    assert response.status_code == 404
    assert "outside the root" not in response.text
    response = client.get("/%2e%2e/secret.txt")
    assert "outside the root" not in response.text


def test_an_unbuilt_app_says_how_to_build_it(tmp_path: Path) -> None:
    response = TestClient(web_app(tmp_path / "nowhere")).get("/projects")
    assert response.status_code == 404
    assert "make web" in response.json()["detail"]


def test_pages_and_assets_carry_the_page_policy_and_api_404s_the_apis(built: Path) -> None:
    client = TestClient(web_app(built))
    for path in ("/", "/projects/3/label", "/assets/index-abc123.js", "/assets/missing-1.js"):
        answer = client.get(path)
        assert answer.headers["content-security-policy"] == PAGE_CSP, path
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert client.get("/api/nothing").headers["content-security-policy"] == API_CSP
    # No inline script, no eval; nothing may frame the app or be embedded as a plugin.
    directives = dict(part.split(" ", 1) for part in PAGE_CSP.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'"


def test_the_single_process_front_gives_service_answers_the_api_policy() -> None:
    async def service(scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse({"ok": True})(scope, receive, send)

    front = RouteTableDispatcher(
        services={"project-svc": service},
        process_app=FastAPI(),
        resolve=lambda path: None if path == "/nowhere" else "project-svc",
    )
    client = TestClient(front)
    answer = client.get("/api/projects")
    assert answer.json() == {"ok": True}
    assert answer.headers["content-security-policy"] == API_CSP
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert client.get("/nowhere").headers["content-security-policy"] == API_CSP

"""The single-process front serves the built web app at `/` with the app's page fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from labelops_runtime.web import web_app


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

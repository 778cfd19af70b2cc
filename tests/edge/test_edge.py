"""The real nginx edge in front of the five services, each its own process.

Which service answered is read from `X-LabelOps-Service`, which every service sets itself,
so a route sent to the wrong upstream cannot pass.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from labelops_runtime.routes import ROUTES, service_for_path
from labelops_runtime.security_headers import API_CSP, PAGE_CSP
from labelops_testing.stack import AUTH

from .conftest import ALLOWED_ORIGIN, ASSET_JS, INDEX_HTML, REFUSED_ORIGIN
from .loader import REPO, edge_module

SERVICE_HEADER = "x-labelops-service"
#: A concrete path for each regex rule of the route table (a new rule needs one here).
REGEX_SAMPLES = {
    r"^/api/projects/[0-9]+/import(/|$)": ["/api/projects/999999/import"],
    r"^/api/projects/[0-9]+/(imports|reimport|reimports|tasks|next|file-uploads|model-versions|summary|sample-task|annotators|assignments|next-review|analytics|agreement)(/|$)": [
        "/api/projects/999999/imports/1",
        "/api/projects/999999/reimports/1",
        "/api/projects/999999/annotators",
        "/api/projects/999999/reimport",
        "/api/projects/999999/reimports/1/",
        "/api/projects/999999/annotators/",
        "/api/projects/999999/tasks",
        "/api/projects/999999/next",
        "/api/projects/999999/file-uploads",
        "/api/projects/999999/model-versions",
        "/api/projects/999999/summary",
        "/api/projects/999999/sample-task",
        "/api/projects/999999/analytics",
        "/api/projects/999999/analytics/people/",
        "/api/projects/999999/assignments",
        "/api/projects/999999/next-review/",
        "/api/projects/999999/agreement/",
    ],
    r"^/api/projects/[0-9]+/(export|exports)(/|$)": [
        "/api/projects/999999/export",
        "/api/projects/999999/exports/1/download",
    ],
    r"^/tasks/[0-9]+/(resolve|presign)(/|$)": ["/tasks/999999/resolve", "/tasks/999999/presign"],
}
CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""


def route_samples() -> list[tuple[str, str]]:
    """(path, service) for every rule of the table, with and without a sub-path."""
    samples: list[tuple[str, str]] = []
    for route in ROUTES:
        if route.regex:
            paths = REGEX_SAMPLES[route.nginx_regex]
        else:
            paths = [route.prefix, route.prefix + "/", route.prefix + "/999999"]
        samples.extend((path, route.service) for path in paths)
    return samples


def test_every_regex_rule_has_samples() -> None:
    regexes = {route.nginx_regex for route in ROUTES if route.regex}
    assert regexes == set(REGEX_SAMPLES)
    for path, service in route_samples():
        assert service_for_path(path) == service, path


def test_every_route_reaches_its_service(edge: Any) -> None:
    with edge.client() as client:
        wrong = {}
        for path, service in route_samples():
            response = client.get(path, headers=AUTH)
            if response.headers.get(SERVICE_HEADER) != service:
                wrong[path] = (service, response.status_code, response.headers.get(SERVICE_HEADER))
        assert wrong == {}


def test_the_edge_locations_with_their_own_limits_reach_the_tables_service(edge: Any) -> None:
    renderer = edge_module()
    with edge.client() as client:
        for location in renderer.special_locations("1024m"):
            response = client.get(location.sample, headers=AUTH)
            assert response.headers.get(SERVICE_HEADER) == service_for_path(location.sample)


def test_paths_outside_the_table_serve_the_web_ui(edge: Any) -> None:
    with edge.client() as client:
        for path in ("/", "/projects/7/data", "/organization"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.text == INDEX_HTML
            assert SERVICE_HEADER not in response.headers
            assert response.headers["strict-transport-security"].startswith("max-age=")
        asset = client.get("/assets/app.js")
        assert asset.status_code == 200
        assert asset.text == ASSET_JS
        assert asset.headers["content-type"].startswith("text/javascript")
        assert "immutable" in asset.headers["cache-control"]
        assert client.get("/assets/missing.js").status_code == 404
        # the services' own ops endpoints are not published by the edge
        assert client.get("/metrics").text == INDEX_HTML


def test_http_redirects_to_https(edge: Any) -> None:
    response = httpx.get(f"{edge.http_url}/api/projects?page=2", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == f"{edge.https_url}/api/projects?page=2"


def test_hsts_on_proxied_static_and_error_responses(edge: Any) -> None:
    with edge.client() as client:
        for response in (
            client.get("/api/projects", headers=AUTH),
            client.get("/api/projects"),  # 401 from the service
            client.get("/"),
            client.get("/assets/missing.js"),
        ):
            assert response.headers.get("strict-transport-security") == (
                "max-age=63072000; includeSubDomains"
            ), response.request.url
            assert response.headers.get("x-content-type-options") == "nosniff"


def test_pages_get_the_page_policy_and_service_answers_the_api_policy(edge: Any) -> None:
    with edge.client() as client:
        for path in ("/", "/projects/7/label", "/assets/app.js", "/assets/missing.js"):
            response = client.get(path)
            assert response.headers.get_list("content-security-policy") == [PAGE_CSP], path
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        for path in ("/api/projects", "/data/upload/999999/tasks.json", "/tasks/1/resolve"):
            for response in (client.get(path, headers=AUTH), client.get(path)):
                assert response.headers.get_list("content-security-policy") == [API_CSP], path
                assert response.headers["x-frame-options"] == "DENY"
        assert preflight(client, ALLOWED_ORIGIN).headers["content-security-policy"] == API_CSP


def preflight(client: httpx.Client, origin: str) -> httpx.Response:
    return client.options(
        "/api/projects",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-csrftoken",
        },
    )


def test_cors_preflight_from_an_allowed_origin(edge: Any) -> None:
    with edge.client() as client:
        response = preflight(client, ALLOWED_ORIGIN)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST", "PATCH", "DELETE"} <= methods
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"authorization", "content-type", "x-csrftoken"} <= allowed
    assert "origin" in response.headers["vary"].lower()
    assert "strict-transport-security" in response.headers
    # answered by the edge, not forwarded
    assert SERVICE_HEADER not in response.headers


def test_cors_preflight_from_a_refused_origin(edge: Any) -> None:
    with edge.client() as client:
        response = preflight(client, REFUSED_ORIGIN)
        # an origin must match exactly: a suffix or a scheme change is another origin
        lookalike = preflight(client, ALLOWED_ORIGIN + ".evil.example.net")
        plain_http = preflight(client, ALLOWED_ORIGIN.replace("https://", "http://"))
    for refused in (response, lookalike, plain_http):
        assert refused.status_code == 403
        assert "access-control-allow-origin" not in refused.headers
        assert "access-control-allow-credentials" not in refused.headers


def test_cors_headers_on_actual_requests(edge: Any) -> None:
    with edge.client() as client:
        allowed = client.get("/api/projects", headers={**AUTH, "Origin": ALLOWED_ORIGIN})
        refused = client.get("/api/projects", headers={**AUTH, "Origin": REFUSED_ORIGIN})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert allowed.headers[SERVICE_HEADER] == "project-svc"
    # the request itself is served (CORS is the browser's decision) but not shared
    assert refused.status_code == 200
    assert "access-control-allow-origin" not in refused.headers


def test_a_20_mib_import_passes_the_edge_and_is_run_by_the_worker(edge: Any) -> None:
    with edge.client() as client:
        created = client.post(
            "/api/projects", json={"title": "Edge import", "label_config": CONFIG}, headers=AUTH
        )
        assert created.status_code == 201, created.text
        project_id = created.json()["id"]
        padding = "z" * 1100
        tasks = [{"text": f"task {index} {padding}"} for index in range(20_000)]
        body = json.dumps(tasks).encode()
        assert len(body) > 20 * 1024 * 1024
        response = client.post(
            f"/api/projects/{project_id}/import",
            content=body,
            headers={**AUTH, "Content-Type": "application/json"},
        )
        assert response.status_code == 201, response.text[:500]
        assert response.headers[SERVICE_HEADER] == "task-svc"
        import_id = response.json()["import"]  # over the sync threshold: queued for the worker
        deadline = time.monotonic() + 60
        while True:
            job = client.get(f"/api/projects/{project_id}/imports/{import_id}", headers=AUTH)
            assert job.status_code == 200, job.text
            if job.json()["status"] in ("completed", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert job.json()["status"] == "completed", job.json()
        project = client.get(f"/api/projects/{project_id}", headers=AUTH).json()
        assert project["task_number"] == 20_000


def raw_status(edge: Any, path: str, content_length: int) -> tuple[int, dict[str, str]]:
    """Sends only the headers of a request that announces `content_length` bytes."""
    port = int(edge.https_url.rsplit(":", 1)[1])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        edge.tls.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: localhost\r\n"
                f"Authorization: {AUTH['Authorization']}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n"
            ).encode()
        )
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = tls.recv(4096)
            if not chunk:
                break
            received += chunk
    head = received.split(b"\r\n\r\n", 1)[0].decode()
    status_line, *lines = head.split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    return int(status_line.split()[1]), headers


@pytest.mark.parametrize(
    ("path", "content_length"),
    [
        ("/api/projects/999999/import", 1024 * 1024 * 1024 + 1),  # over the 1 GiB import limit
        ("/api/projects", 100 * 1024 * 1024 + 1),  # over the 100 MiB API limit
    ],
)
def test_bodies_over_the_limit_are_refused_with_413(
    edge: Any, path: str, content_length: int
) -> None:
    status, headers = raw_status(edge, path, content_length)
    assert status == 413
    assert SERVICE_HEADER not in headers  # refused by the edge before reaching a service


def test_gixy_finds_nothing_in_the_rendered_edge(edge: Any) -> None:
    gixy = Path(sys.executable).parent / "gixy"
    result = subprocess.run(
        [str(gixy), str(edge.conf_dir / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_renderer_takes_the_allow_list_from_chart_values(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(
        "edge:\n  cors:\n    enabled: true\n    allowOrigins:\n      - https://a.example.com\n"
        "      - https://b.example.com:8443\n"
    )
    renderer = edge_module()
    out = tmp_path / "conf"
    assert (
        renderer.main(
            [
                "render",
                "--out",
                str(out),
                "--values",
                str(values),
                "--upstreams-at",
                "127.0.0.1:8080",
            ]
        )
        == 0
    )
    conf = (out / "nginx.conf").read_text()
    assert '"https://a.example.com" $http_origin;' in conf
    assert '"https://b.example.com:8443" $http_origin;' in conf
    assert (out / "labelops" / "routes.conf").read_text().startswith("# Generated")


@pytest.mark.parametrize(
    "origin", ["*", "https://app.example.com/", "app.example.com", 'https://x.com" $x; #']
)
def test_the_renderer_refuses_origins_that_are_not_exact(tmp_path: Path, origin: str) -> None:
    renderer = edge_module()
    code = renderer.main(
        [
            "render",
            "--out",
            str(tmp_path),
            "--allow-origin",
            origin,
            "--upstreams-at",
            "127.0.0.1:1",
        ]
    )
    assert code == 2
    assert not (tmp_path / "nginx.conf").exists()


def test_the_edge_cors_policy_is_the_charts() -> None:
    import yaml

    renderer = edge_module()
    chart = yaml.safe_load((REPO / "helm" / "labelops" / "values.yaml").read_text())
    cors = chart["edge"]["cors"]
    assert tuple(cors["allowMethods"]) == renderer.CORS_ALLOW_METHODS
    assert tuple(cors["allowHeaders"]) == renderer.CORS_ALLOW_HEADERS
    assert cors["allowCredentials"] is True
    assert cors["maxAge"] == renderer.CORS_MAX_AGE_SECONDS
    disabled = REPO / "helm" / "labelops" / "values.yaml"
    assert cors["enabled"] is False and renderer.origins_from_values(disabled) == []

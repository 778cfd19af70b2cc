"""The route table: first match wins, prefixes stop at segment boundaries, renders stay current."""

from __future__ import annotations

import json
import re

import pytest
from labelops_runtime.render import render_routes
from labelops_runtime.routes import ROUTES, service_for_path

EXPECTED = {
    "/api/projects": "project-svc",
    "/api/projects/": "project-svc",
    "/api/projects/12": "project-svc",
    "/api/projects/12/validate/": "project-svc",
    "/api/projects/12/import": "task-svc",
    "/api/projects/12/tasks/": "task-svc",
    "/api/projects/12/export?exportType=JSON": "export-svc",
    "/api/projects/12/exports/3/download": "export-svc",
    "/api/tasks/5/annotations/": "task-svc",
    "/api/dm/views": "task-svc",
    "/api/storages/s3/1/sync": "storage-sync",
    "/api/storages/export/gcs": "storage-sync",
    "/tasks/9/resolve/?fileuri=x": "storage-sync",
    "/api/ml/3/predict/test": "ml-gateway",
    "/api/current-user/whoami": "project-svc",
    "/health": "project-svc",
    "/api/version/": "project-svc",
}


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_paths_reach_their_service(path: str) -> None:
    assert service_for_path(path.split("?")[0]) == EXPECTED[path]


@pytest.mark.parametrize(
    "path", ["/api/projectsfoo", "/api/tasksx/1", "/api/projects/abc/import", "/nowhere", "/"]
)
def test_no_partial_segment_matches(path: str) -> None:
    owner = service_for_path(path)
    if path.startswith("/api/projects/abc"):
        assert owner == "project-svc"  # not a numeric id: the project catch-all, which 404s
    else:
        assert owner is None


def test_nginx_render_keeps_the_table_order() -> None:
    rendered = render_routes("nginx")
    locations = re.findall(r"location ~ (\S+) \{", rendered)
    assert locations == [route.nginx_regex for route in ROUTES]


def test_json_render_is_the_same_table() -> None:
    rules = json.loads(render_routes("json"))
    assert [(rule["service"], rule["regex"]) for rule in rules] == [
        (route.service, route.nginx_regex) for route in ROUTES
    ]

"""project-svc and task-svc as separate processes, talking over gRPC as in Kubernetes."""

from __future__ import annotations

import time

import httpx

from .conftest import ADMIN_TOKEN  # type: ignore[import-not-found]

HEADERS = {"Authorization": f"Token {ADMIN_TOKEN}"}


def test_counters_come_from_the_task_svc_process(split_services) -> None:
    base = split_services.project_svc.base_url
    created = httpx.post(f"{base}/api/projects", json={"title": "Split"}, headers=HEADERS)
    assert created.status_code == 201, created.text
    project = httpx.get(f"{base}/api/projects/{created.json()['id']}", headers=HEADERS).json()
    assert project["task_number"] == 0
    assert project["total_annotations_number"] == 0

    # task-svc down: projects still list, counters read as unknown, readiness says why
    split_services.task_svc.process.terminate()
    split_services.task_svc.process.wait(timeout=20)
    listed = httpx.get(f"{base}/api/projects", headers=HEADERS)
    assert listed.status_code == 200
    assert listed.json()["results"][0]["task_number"] is None
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["task-svc"] != "ok"

    # and back: the shared channel reconnects on its own
    split_services.task_svc = split_services.start_task_svc()
    assert httpx.get(f"{base}/readyz").status_code == 200
    deadline = time.monotonic() + 5  # the client reconnects within its 2 s backoff cap
    while True:
        project = httpx.get(f"{base}/api/projects/{created.json()['id']}", headers=HEADERS)
        if project.json()["task_number"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert project.json()["task_number"] == 0

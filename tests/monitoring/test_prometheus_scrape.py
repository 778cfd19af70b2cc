"""A real Prometheus scrapes every LabelOps process; after traffic and a Celery job, PromQL
over its HTTP API sees each service's request counter and the worker's task metrics.

The PromQL queries are the upper-case constants below (listed in deploy/README.md too).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from labelops_common.settings import SERVICE_NAMES
from labelops_testing.stack import AUTH, WORKER_QUEUES

HTTP_REQUESTS_BY_SERVICE = "sum by (service) (labelops_http_requests_total)"
TARGETS_UP = "up"
CELERY_TASKS = 'sum by (task, state) (labelops_celery_tasks_total{job="labelops-worker"})'
JOB_OUTCOMES = 'sum by (task, outcome) (labelops_job_outcomes_total{job="labelops-worker"})'
QUEUE_DEPTH = 'labelops_queue_depth{job="labelops-worker"}'
BROKER_UP = 'labelops_broker_up{job="labelops-worker"}'
GRPC_SERVER = "sum by (job, grpc_service) (labelops_grpc_server_handled_total)"
ALERT_RULES_LOADED = "/api/v1/rules?type=alert"
IMPORT_TASK = "task-svc.import_tasks"
CONFIG = '<View><Text name="text" value="$text"/><Choices name="s" toName="text"><Choice value="A"/></Choices></View>'
#: A real route of each service (the status does not matter: every answer is counted).
TRAFFIC = {
    "project-svc": "/api/projects",
    "task-svc": "/api/tasks?project=999999",
    "storage-sync": "/api/storages/s3?project=999999",
    "export-svc": "/api/projects/999999/export/formats",
    "ml-gateway": "/api/ml?project=999999",
}


def by_label(result: list[dict[str, Any]], label: str) -> dict[str, float]:
    return {sample["metric"].get(label, ""): float(sample["value"][1]) for sample in result}


def test_every_process_is_scraped(prometheus: Any, stack: Any) -> None:
    result = prometheus.wait_for(
        TARGETS_UP, lambda r: len(r) == 6 and all(s["value"][1] == "1" for s in r)
    )
    up = by_label(result, "job")
    assert up == {**{f"labelops-{name}": 1.0 for name in SERVICE_NAMES}, "labelops-worker": 1.0}


def test_each_services_request_counter_after_traffic(prometheus: Any, stack: Any) -> None:
    for name, path in TRAFFIC.items():
        for _ in range(3):
            response = httpx.get(stack.service_url(name) + path, headers=AUTH, timeout=10)
            assert response.status_code < 500, (name, response.status_code, response.text[:300])
    result = prometheus.wait_for(
        HTTP_REQUESTS_BY_SERVICE,
        lambda r: (
            set(by_label(r, "service")) >= set(SERVICE_NAMES)
            and all(v >= 3 for v in by_label(r, "service").values())
        ),
    )
    counts = by_label(result, "service")
    assert set(counts) == set(SERVICE_NAMES), counts
    for name in SERVICE_NAMES:
        assert counts[name] >= 3, (name, counts)
    # project-svc's gRPC server answered the other services (token and project look-ups)
    grpc = prometheus.wait_for(GRPC_SERVER, lambda r: bool(r))
    served = {
        s["metric"]["grpc_service"]: float(s["value"][1])
        for s in grpc
        if s["metric"]["job"] == "labelops-project-svc"
    }
    assert served.get("labelops.project.v1.ProjectService", 0) > 0, grpc


def test_a_celery_job_shows_in_the_workers_metrics(prometheus: Any, stack: Any) -> None:
    project_url = stack.service_url("project-svc")
    task_url = stack.service_url("task-svc")

    def import_tasks_succeeded(result: list[dict[str, Any]]) -> float:
        return sum(
            float(s["value"][1])
            for s in result
            if s["metric"]["task"] == IMPORT_TASK and s["metric"]["state"] == "succeeded"
        )

    def import_jobs_succeeded(result: list[dict[str, Any]]) -> float:
        return sum(
            float(s["value"][1])
            for s in result
            if s["metric"]["task"] == IMPORT_TASK and s["metric"]["outcome"] == "succeeded"
        )

    # The stack is shared with the edge tests, whose imports may have been counted already.
    tasks_before = import_tasks_succeeded(prometheus.query(CELERY_TASKS))
    jobs_before = import_jobs_succeeded(prometheus.query(JOB_OUTCOMES))
    created = httpx.post(
        f"{project_url}/api/projects",
        json={"title": "Metrics", "label_config": CONFIG},
        headers=AUTH,
    )
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    time.sleep(0.1)
    queued = httpx.post(
        f"{task_url}/api/projects/{project_id}/import",
        json=[{"text": f"task {index} " + "x" * 64} for index in range(50)],
        headers=AUTH,
        timeout=30,
    )
    assert queued.status_code == 201, queued.text
    import_id = queued.json()["import"]  # queued: the stack sets the sync threshold to 1 KiB

    deadline = time.monotonic() + 60
    while (
        job := httpx.get(
            f"{task_url}/api/projects/{project_id}/imports/{import_id}", headers=AUTH
        ).json()
    )["status"] != "completed":
        assert job["status"] != "failed" and time.monotonic() < deadline, job
        time.sleep(0.2)
    tasks = prometheus.wait_for(
        CELERY_TASKS, lambda r: import_tasks_succeeded(r) >= tasks_before + 1
    )
    assert import_tasks_succeeded(tasks) >= tasks_before + 1, tasks
    outcomes = prometheus.wait_for(
        JOB_OUTCOMES, lambda r: import_jobs_succeeded(r) >= jobs_before + 1
    )
    assert import_jobs_succeeded(outcomes) >= jobs_before + 1, outcomes


def test_queue_depth_and_broker_are_reported_by_the_worker(prometheus: Any, stack: Any) -> None:
    depth = prometheus.wait_for(QUEUE_DEPTH, lambda r: len(r) == len(WORKER_QUEUES))
    assert set(by_label(depth, "queue")) == set(WORKER_QUEUES)
    assert all(value >= 0 for value in by_label(depth, "queue").values())
    broker = prometheus.wait_for(BROKER_UP, lambda r: bool(r))
    assert [float(s["value"][1]) for s in broker] == [1.0]


def test_the_alert_rules_load_in_the_real_server(prometheus: Any) -> None:
    body = httpx.get(prometheus.url + ALERT_RULES_LOADED, timeout=10).json()
    rules = [rule for group in body["data"]["groups"] for rule in group["rules"]]
    assert len(rules) >= 14
    assert all(rule["health"] in ("ok", "unknown") for rule in rules), rules
    # with the suite healthy, nothing fires
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(r["health"] == "unknown" for r in rules):
        time.sleep(1)
        body = httpx.get(prometheus.url + ALERT_RULES_LOADED, timeout=10).json()
        rules = [rule for group in body["data"]["groups"] for rule in group["rules"]]
    firing = [r["name"] for r in rules if r["state"] == "firing"]
    assert firing == [], firing

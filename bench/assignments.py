"""Workload 6, `assign`: task assignment at the run's size (LabelOps only; Label Studio's
community edition has no assignments).

1. `POST /api/projects/{id}/tasks/assignees` of the tasks of one category (a tenth) to
   annotator A, then of every task to annotator B: one set-based INSERT … SELECT each, timed.
2. The manager's data manager filtered by `assignees contains A`, page 1 and a deep page.
3. The project switched to `assigned_only`: A's own task list (page 1, deep page) and A's
   label stream, each handed-out task annotated between calls (not timed).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from bench.targets import Api
from bench.workloads import _list_page, _list_params, _ms_stats, choices_result

#: The project directory keeps a project's settings this long (task-svc's ProjectDirectory).
SETTINGS_CACHE_SECONDS = 6.0
CATEGORY = {
    "conjunction": "and",
    "items": [
        {
            "filter": "filter:tasks:data.category",
            "operator": "equal",
            "type": "String",
            "value": "c3",
        }
    ],
}


def _annotator(api: Api, project_id: int) -> tuple[int, str]:
    """A new annotator admitted to the project, and their API token."""
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    password = "bench-annotator-password-1"  # noqa: S105 - a throwaway bench user
    with api.client() as http:
        created = http.post(
            "/api/users", json={"email": email, "password": password, "role": "annotator"}
        )
        if created.status_code != 201:
            raise RuntimeError(
                f"create annotator: HTTP {created.status_code}: {created.text[:300]}"
            )
        user_id = int(created.json()["id"])
        admitted = http.post(f"/api/projects/{project_id}/members/", json={"user": user_id})
        if admitted.status_code != 201:
            raise RuntimeError(
                f"admit annotator: HTTP {admitted.status_code}: {admitted.text[:300]}"
            )
    with httpx.Client(base_url=api.base_url, timeout=60) as browser:
        browser.post("/user/login", json={"email": email, "password": password}).raise_for_status()
        token = browser.post(
            "/api/current-user/reset-token",
            headers={"X-CSRFToken": browser.cookies.get("csrftoken") or ""},
        )
        token.raise_for_status()
        return user_id, str(token.json()["token"])


def _assign(http: httpx.Client, project_id: int, body: dict[str, Any]) -> tuple[int, float]:
    started = time.monotonic()
    answer = http.post(f"/api/projects/{project_id}/tasks/assignees", json=body, timeout=1800)
    seconds = time.monotonic() - started
    if answer.status_code != 200:
        raise RuntimeError(f"bulk assign: HTTP {answer.status_code}: {answer.text[:300]}")
    return int(answer.json()["assignments"]), round(seconds, 2)


def _pages(
    http: httpx.Client, params: dict[str, str | int], name: str, runs: int
) -> dict[str, Any]:
    first = _list_page(http, params, name, 1)
    total = int(first.json()["total"])
    deep = max(1, total // 200)
    figures: dict[str, Any] = {"total": total}
    for label, page in (("page1", 1), ("deep", deep)):
        samples = []
        for _ in range(runs):
            started = time.monotonic()
            _list_page(http, params, name, page)
            samples.append(time.monotonic() - started)
        figures[label] = {"page": page, **_ms_stats(samples)}
    return figures


def run_assign(api: Api, project_id: int, *, runs: int, next_runs: int) -> dict[str, Any]:
    a_id, a_token = _annotator(api, project_id)
    b_id, _ = _annotator(api, project_id)
    results: dict[str, Any] = {}
    with api.client() as http:
        made, seconds = _assign(
            http,
            project_id,
            {
                "type": "AN",
                "users": [a_id],
                "selectedItems": {"all": True, "excluded": []},
                "filters": CATEGORY,
            },
        )
        results["assign_category"] = {"assignments": made, "seconds": seconds}
        made, seconds = _assign(
            http,
            project_id,
            {"type": "AN", "users": [b_id], "selectedItems": {"all": True, "excluded": []}},
        )
        results["assign_all"] = {"assignments": made, "seconds": seconds}
        mine = {
            "filters": {
                "conjunction": "and",
                "items": [
                    {
                        "filter": "filter:tasks:assignees",
                        "operator": "contains",
                        "type": "List",
                        "value": a_id,
                    }
                ],
            },
            "ordering": ["tasks:id"],
        }
        results["manager_list_by_assignee"] = _pages(
            http, _list_params(project_id, mine), "by assignee", runs
        )
        switched = http.patch(
            f"/api/projects/{project_id}",
            json={"assignment_settings": {"label_stream_task_distribution": "assigned_only"}},
        )
        if switched.status_code != 200:
            raise RuntimeError(f"assigned_only: HTTP {switched.status_code}: {switched.text[:300]}")
    time.sleep(SETTINGS_CACHE_SECONDS)
    annotator = Api(api.base_url, token=a_token)
    with annotator.client() as http:
        own = _list_params(project_id, {"ordering": ["tasks:id"]})
        results["annotator_list"] = _pages(http, own, "annotator's own", runs)
        samples = []
        for _ in range(next_runs):
            started = time.monotonic()
            answer = http.get(f"/api/projects/{project_id}/next")
            samples.append(time.monotonic() - started)
            if answer.status_code != 200:
                raise RuntimeError(
                    f"annotator next: HTTP {answer.status_code}: {answer.text[:300]}"
                )
            task_id = int(answer.json()["id"])
            done = http.post(f"/api/tasks/{task_id}/annotations", json={"result": choices_result()})
            if done.status_code != 201:
                raise RuntimeError(f"annotate: HTTP {done.status_code}: {done.text[:300]}")
        results["annotator_next"] = _ms_stats(samples)
    return results

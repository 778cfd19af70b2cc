"""The four workloads. Each returns plain figures (a dict) or raises; nothing here asserts a time."""

from __future__ import annotations

import json
import queue
import statistics
import threading
import time
import uuid
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.dataset import FILTER_CATEGORY
from bench.infra import RssSampler, Server, tree_cpu_seconds
from bench.targets import Api

#: The data-manager queries of workload 2: one filter and one ordering each.
LIST_QUERIES: dict[str, dict[str, Any]] = {
    "unlabeled-newest": {
        "filters": {
            "conjunction": "and",
            "items": [
                {
                    "filter": "filter:tasks:total_annotations",
                    "operator": "equal",
                    "type": "Number",
                    "value": 0,
                }
            ],
        },
        "ordering": ["-tasks:id"],
    },
    "category-by-text": {
        "filters": {
            "conjunction": "and",
            "items": [
                {
                    "filter": "filter:tasks:data.category",
                    "operator": "equal",
                    "type": "String",
                    "value": FILTER_CATEGORY,
                }
            ],
        },
        "ordering": ["tasks:data.text"],
    },
}


def choices_result() -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4().hex[:10],
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["positive"]},
        }
    ]


def _ms_stats(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "runs": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "min_ms": round(ordered[0] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def run_import(
    api: Api, server: Server, project_id: int, tasks_path: Path, *, expected: int, timeout: float
) -> dict[str, Any]:
    """Workload 1: one POST of the whole list; wall time to completion and the server's peak RSS."""
    with RssSampler(root=server.process.pid, skip_root=server.skip_root_rss) as rss:
        started = time.monotonic()
        outcome = api.import_file(project_id, tasks_path, timeout=timeout)
        seconds = time.monotonic() - started
    imported = api.task_total(project_id)
    return {
        "seconds": round(seconds, 2),
        "tasks_per_second": round(imported / seconds, 1) if seconds else None,
        "peak_rss_mb": round(rss.peak_rss_mb, 1),
        "peak_hwm_mb": round(rss.peak_hwm_mb, 1),
        "body_mb": round(tasks_path.stat().st_size / 1e6, 1),
        "tasks_expected": expected,
        "tasks_in_project": imported,
        **outcome,
    }


#: How long the list workload waits for a data-field index the first query asked for.
INDEX_BUILD_TIMEOUT = 300.0
#: While an index builds, a task is created this often (seconds), in this category.
WRITE_EVERY = 0.1
WRITER_CATEGORY = "written-during-build"


def _list_params(project_id: int, query: dict[str, Any]) -> dict[str, str | int]:
    return {
        "project": project_id,
        "page_size": 100,
        "fields": "task_only",
        "query": json.dumps(query, separators=(",", ":")),
    }


def _list_page(http: Any, params: dict[str, str | int], name: str, page: int) -> Any:
    """One data-manager page; anything but a 200 fails the workload."""
    answer = http.get("/api/tasks", params={**params, "page": page})
    if answer.status_code != 200:
        raise RuntimeError(
            f"list {name} page {page}: HTTP {answer.status_code}: {answer.text[:300]}"
        )
    return answer


def run_list(api: Api, project_id: int, *, runs: int) -> dict[str, Any]:
    """Workload 2: the data-manager page 1 and a deep page for each query, `runs` times each.

    The first call of a query may make LabelOps build a data-field index for it: that call
    is not timed, the build is waited for, and its duration (from the first call until the
    index is ready) is `index_build_s` (None where no index was built, as on Label Studio).
    """
    results: dict[str, Any] = {}
    with api.client() as http:
        for name, query in LIST_QUERIES.items():
            params = _list_params(project_id, query)
            started = time.monotonic()
            first = _list_page(http, params, name, 1)
            with _TaskWriter(api, project_id) as writer:
                built = _wait_for_field_index(http, project_id, query)
            total = int(first.json()["total"])
            deep = max(1, total // 200)
            per_query: dict[str, Any] = {
                "query": query,
                "total": total,
                "index_build_s": round(time.monotonic() - started, 2) if built else None,
            }
            if built:
                per_query["create_during_build"] = writer.figures()
            for label, page in (("page1", 1), ("deep", deep)):
                samples = []
                for _ in range(runs):
                    started = time.monotonic()
                    answer = _list_page(http, params, name, page)
                    samples.append(time.monotonic() - started)
                    if page > 1 and not answer.json()["tasks"]:
                        raise RuntimeError(f"list {name} page {page}: empty page")
                per_query[label] = {"page": page, **_ms_stats(samples)}
            results[name] = per_query
    return results


class _TaskWriter:
    """Creates a task (`POST /api/tasks`) every `WRITE_EVERY` seconds while the index
    builds, timing each: whether a build holds up the project's task writes. Its tasks
    have category `WRITER_CATEGORY`, so the workload's selections do not change."""

    def __init__(self, api: Api, project_id: int) -> None:
        self._api = api
        self._project_id = project_id
        self._stop = threading.Event()
        self._samples: list[float] = []
        self._errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="bench-task-writer", daemon=True)

    def __enter__(self) -> _TaskWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with self._api.client() as http:
            number = 0
            while not self._stop.wait(WRITE_EVERY):
                number += 1
                data = {"text": f"written during the build #{number}", "category": WRITER_CATEGORY}
                started = time.monotonic()
                answer = http.post("/api/tasks", json={"project": self._project_id, "data": data})
                self._samples.append(time.monotonic() - started)
                if answer.status_code != 201:
                    self._errors.append(f"HTTP {answer.status_code}: {answer.text[:200]}")
                    return

    def figures(self) -> dict[str, Any]:
        """Median, p95 and max ms of the creates; a failed create fails the workload."""
        if self._errors:
            raise RuntimeError(f"create during the index build: {self._errors[0]}")
        return _ms_stats(self._samples) if self._samples else {"runs": 0}


def _field_index_keys(query: dict[str, Any]) -> tuple[str | None, str | None]:
    """(filter key, order key) of the data-field index LabelOps would build for `query`."""
    items = (query.get("filters") or {}).get("items") or []
    column = items[0]["filter"].removeprefix("filter:tasks:") if len(items) == 1 else ""
    ordering = query.get("ordering") or []
    order = ordering[0].lstrip("-").removeprefix("tasks:") if len(ordering) == 1 else ""
    return (
        column.removeprefix("data.") if column.startswith("data.") else None,
        order.removeprefix("data.") if order.startswith("data.") else None,
    )


def _wait_for_field_index(http: Any, project_id: int, query: dict[str, Any]) -> bool:
    """Poll `GET /api/dm/field-indexes` until the query's index is ready; False if there is
    none (a small project, another query shape, or a server without the endpoint)."""
    keys = _field_index_keys(query)
    deadline = time.monotonic() + INDEX_BUILD_TIMEOUT
    while True:
        answer = http.get("/api/dm/field-indexes", params={"project": project_id})
        if answer.status_code == 404:
            return False
        if answer.status_code != 200:
            raise RuntimeError(f"field indexes: HTTP {answer.status_code}: {answer.text[:300]}")
        mine = [d for d in answer.json() if (d["filter_key"], d["order_key"]) == keys]
        if not mine:
            return False
        if mine[0]["state"] == "ready":
            return True
        if mine[0]["state"] != "building":
            raise RuntimeError(f"field index {mine[0]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"field index not ready after {INDEX_BUILD_TIMEOUT:.0f} s")
        time.sleep(0.2)


def run_list_while_labelling(
    api: Api, project_id: int, task_ids: list[int], *, runs: int
) -> dict[str, Any]:
    """Workload 5: workload 2's pages in a project being labelled. Each timed page follows
    one new annotation, so nothing computed for the last tasks version can be reused (as
    when annotators keep writing while a manager pages through the data manager)."""
    needed = runs * 2 * len(LIST_QUERIES)
    if len(task_ids) < needed:
        raise RuntimeError(f"found {len(task_ids)} unannotated task ids, wanted {needed}")
    to_annotate = iter(task_ids)
    results: dict[str, Any] = {}
    with api.client() as http:
        for name, query in LIST_QUERIES.items():
            params = _list_params(project_id, query)
            first = _list_page(http, params, name, 1)
            deep = max(1, int(first.json()["total"]) // 200)
            per_query: dict[str, Any] = {}
            for label, page in (("page1", 1), ("deep", deep)):
                samples = []
                for _ in range(runs):
                    task_id = next(to_annotate)
                    done = http.post(
                        f"/api/tasks/{task_id}/annotations", json={"result": choices_result()}
                    )
                    if done.status_code != 201:
                        raise RuntimeError(f"annotate: HTTP {done.status_code}: {done.text[:300]}")
                    started = time.monotonic()
                    _list_page(http, params, name, page)
                    samples.append(time.monotonic() - started)
                per_query[label] = _ms_stats(samples)
            results[name] = per_query
    return results


def run_annotations(
    api: Api, server: Server, task_ids: list[int], *, clients: int, timeout: float = 120.0
) -> dict[str, Any]:
    """Workload 3: `clients` threads, each with its own connection, one annotation per task.

    Besides the rate, the server's CPU time per annotation (its whole process tree, the
    database excluded), which other load on the machine does not change.
    """
    work: queue.SimpleQueue[int] = queue.SimpleQueue()
    for task_id in task_ids:
        work.put(task_id)
    errors: list[str] = []
    created = 0
    lock = threading.Lock()
    stop = threading.Event()

    address = urlsplit(api.base_url)
    headers = {**api.headers, "Content-Type": "application/json"}

    def worker() -> None:
        nonlocal created
        # A keep-alive stdlib connection: the load generator shares the machine's cores
        # with the server, so it should take as little of them as it can.
        http = HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=timeout)
        try:
            while not stop.is_set():
                try:
                    task_id = work.get_nowait()
                except queue.Empty:
                    return
                body = json.dumps({"result": choices_result(), "lead_time": 1.5})
                try:
                    http.request("POST", f"/api/tasks/{task_id}/annotations", body, headers)
                    answer = http.getresponse()
                    text = answer.read()
                    ok = answer.status == 201
                    failure = "" if ok else f"HTTP {answer.status}: {text[:200]!r}"
                except (OSError, HTTPException) as error:
                    http.close()  # reconnects on the next request
                    ok, failure = False, f"{type(error).__name__}: {error}"
                with lock:
                    if ok:
                        created += 1
                    elif len(errors) < 20:
                        errors.append(f"task {task_id}: {failure}")
        finally:
            http.close()

    threads = [
        threading.Thread(target=worker, name=f"annotator-{i}", daemon=True) for i in range(clients)
    ]
    cpu_before = tree_cpu_seconds(server.process.pid, skip_root=server.skip_root_rss)
    started = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stop.set()  # on Ctrl-C the clients stop after their request in flight
    seconds = time.monotonic() - started
    cpu = tree_cpu_seconds(server.process.pid, skip_root=server.skip_root_rss) - cpu_before
    return {
        "clients": clients,
        "attempted": len(task_ids),
        "created": created,
        "failed": len(task_ids) - created,
        "errors": errors,
        "seconds": round(seconds, 2),
        "per_second": round(created / seconds, 1) if seconds else None,
        "server_cpu_ms_per_annotation": round(cpu * 1000 / created, 2) if created else None,
    }


def run_next(api: Api, project_id: int, *, runs: int) -> dict[str, Any]:
    """Workload 4: `GET /api/projects/{id}/next`, annotating the task handed out between calls."""
    samples: list[float] = []
    seen: list[int] = []
    with api.client() as http:
        for _ in range(runs):
            started = time.monotonic()
            answer = http.get(f"/api/projects/{project_id}/next")
            samples.append(time.monotonic() - started)
            if answer.status_code != 200:
                raise RuntimeError(f"next: HTTP {answer.status_code}: {answer.text[:300]}")
            task_id = int(answer.json()["id"])
            seen.append(task_id)
            done = http.post(f"/api/tasks/{task_id}/annotations", json={"result": choices_result()})
            if done.status_code != 201:
                raise RuntimeError(
                    f"annotate after next: HTTP {done.status_code}: {done.text[:300]}"
                )
    return {
        **_ms_stats(samples),
        "distinct_tasks": len(set(seen)),
        "queue": "sequential; each handed-out task is annotated before the next call",
    }

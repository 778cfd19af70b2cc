"""The two workloads, through the API LabelOps and Label Studio both answer (contract §7):
a first sync of a filled bucket, and a re-sync after new objects were added to it."""

from __future__ import annotations

import time
from typing import Any

from bench.infra import RssSampler, Server, tree_cpu_seconds
from bench.storage.bucket import ACCESS_KEY, PREFIX, REGION, SECRET_KEY, Bucket
from bench.targets import Api

#: A sync is over in one of these (contract §7.2).
FINISHED = {"completed", "completed_with_errors", "failed"}
#: Keys the storage imports; every bench object matches, so the filter costs what it costs.
REGEX_FILTER = r".*\.jpg$"
POLL_SECONDS = 0.2


class SyncFailed(RuntimeError):
    pass


def create_s3_storage(api: Api, project_id: int, bucket: Bucket) -> int:
    """An S3 source storage, one task per object (`use_blob_urls`), on the emulator's endpoint."""
    body = {
        "project": project_id,
        "title": f"bench {bucket.name}",
        "bucket": bucket.name,
        "prefix": PREFIX,
        "regex_filter": REGEX_FILTER,
        "use_blob_urls": True,
        "recursive_scan": True,
        "presign": True,
        "presign_ttl": 1,
        "region_name": REGION,
        "s3_endpoint": bucket.endpoint,
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
    }
    with api.client() as http:
        answer = http.post("/api/storages/s3/", json=body)
        if answer.status_code != 201:
            raise SyncFailed(
                f"creating the storage: HTTP {answer.status_code}: {answer.text[:800]}"
            )
        return int(answer.json()["id"])


def _storage(api: Api, storage_id: int, *, timeout: float = 60.0) -> dict[str, Any]:
    with api.client(timeout=timeout) as http:
        answer = http.get(f"/api/storages/s3/{storage_id}")
        if answer.status_code != 200:
            raise SyncFailed(f"reading the storage: HTTP {answer.status_code}: {answer.text[:500]}")
        storage: dict[str, Any] = answer.json()
        return storage


def run_sync(
    api: Api,
    server: Server,
    *,
    project_id: int,
    storage_id: int,
    expected_tasks: int,
    expected_new: int,
    timeout: float,
) -> dict[str, Any]:
    """`POST /api/storages/s3/{id}/sync`, then `GET` the storage every 0.2 s until this sync
    finished (a new `last_sync`). Timed from the POST to that answer; the server's process tree
    RSS is sampled every 0.1 s and its CPU time read before and after.

    Label Studio without Redis syncs inside the POST (contract §7.3), LabelOps in a queued job:
    the same clock covers both. A sync that leaves a wrong number of tasks is a failure, not
    a figure.
    """
    before = _storage(api, storage_id)
    # The server's memory at rest, just before the sync (its peak is read against this).
    with RssSampler(server.process.pid, skip_root=server.skip_root_rss, interval=3600) as idle:
        pass
    cpu_before = tree_cpu_seconds(server.process.pid, skip_root=server.skip_root_rss)
    progress_counts: set[int] = set()
    polls = 0
    with RssSampler(server.process.pid, skip_root=server.skip_root_rss) as rss:
        started = time.monotonic()
        deadline = started + timeout
        with api.client(timeout=timeout) as http:
            answer = http.post(f"/api/storages/s3/{storage_id}/sync")
        post_seconds = time.monotonic() - started
        if answer.status_code != 200:
            raise SyncFailed(f"sync: HTTP {answer.status_code}: {answer.text[:800]}")
        while True:
            storage = _storage(api, storage_id)
            polls += 1
            status = storage.get("status")
            if status == "in_progress" and isinstance(storage.get("last_sync_count"), int):
                progress_counts.add(storage["last_sync_count"])
            if status in FINISHED and storage.get("last_sync") != before.get("last_sync"):
                break
            if time.monotonic() > deadline:
                raise SyncFailed(f"sync not finished after {timeout:.0f}s (status {status!r})")
            time.sleep(POLL_SECONDS)
        seconds = time.monotonic() - started
    cpu = tree_cpu_seconds(server.process.pid, skip_root=server.skip_root_rss) - cpu_before
    if storage["status"] != "completed":
        raise SyncFailed(f"sync ended {storage['status']}: {str(storage.get('traceback'))[:800]}")
    tasks = api.task_total(project_id)
    figures = {
        "seconds": round(seconds, 2),
        "objects_per_second": round(expected_new / seconds, 1) if seconds > 0 else None,
        "post_seconds": round(post_seconds, 2),
        "rss_before_mb": round(idle.peak_rss_mb, 1),
        "peak_rss_mb": round(rss.peak_rss_mb, 1),
        "peak_hwm_mb": round(rss.peak_hwm_mb, 1),
        "server_cpu_seconds": round(cpu, 2),
        "last_sync_count": storage.get("last_sync_count"),
        "tasks_in_project": tasks,
        "progress_updates_seen": len(progress_counts),
        "polls": polls,
        "meta": storage.get("meta"),
    }
    if tasks != expected_tasks:
        raise SyncFailed(
            f"{tasks} tasks in the project after the sync, expected {expected_tasks}: {figures}"
        )
    return figures

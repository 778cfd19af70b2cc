"""Storage sync end to end against `labelops serve --target all` with a Redis broker: the
official SDK creates and syncs an S3 storage on moto's server, and a process killed with
SIGKILL in the middle of a sync leaves no duplicate and no missing task once the restarted
process has picked the job up again.

The suite here allows private networks (moto listens on loopback), which the shared
`suite` fixture does not: storage endpoints pass the outbound address policy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from label_studio_sdk import LabelStudio
from labelops_runtime.suite import free_loopback_port
from labelops_testing import emulators
from labelops_testing.databases import embedded_data_dir, scratch_redis_url

from .conftest import (  # type: ignore[import-not-found]
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ADMIN_TOKEN,
    SECRET,
    RunningProcess,
    service_databases,
    stop,
)

CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Choices name="choice" toName="image"><Choice value="cat"/><Choice value="dog"/></Choices>
</View>"""
HEADERS = {"Authorization": f"Token {ADMIN_TOKEN}"}
ACCESS_KEY = "AKIASDKSTORAGETEST01"
SECRET_KEY = "sdk-storage-test-secret-0123456789abcdefgh"
START_SECONDS = 240.0


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulators.moto_s3(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture()
def s3(s3_endpoint: str) -> Any:
    return emulators.moto_s3_client(s3_endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY)


def put_objects(s3: Any, bucket: str, keys: list[str]) -> None:
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=bucket, Key=key, Body=b"x"), keys))


class Suite:
    """`labelops serve --target all` that a test can kill and start again on the same
    databases and broker."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp = tmp
        self.env = env
        self.port = int(env["LABELOPS_PORT"])
        self.running: RunningProcess | None = None
        self.starts = 0

    def start(self) -> RunningProcess:
        """Start and wait until healthy (a loaded CI machine may need minutes: hashing the
        admin's password and building five services share two cores with everything)."""
        self.starts += 1
        log_path = self.tmp / f"labelops-{self.starts}.log"
        full_env = {**os.environ, **self.env}
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "labelops_runtime.cli", "serve", "--target", "all"],
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.running = RunningProcess(base_url=self.base_url, process=process, log_path=log_path)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"labelops exited early:\n{self.logs()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self.running
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        process.kill()
        raise RuntimeError(f"labelops did not become healthy:\n{self.logs()}")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        assert self.running is not None
        self.running.process.kill()
        self.running.process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in self.tmp.glob("labelops-*.log")
        )


@pytest.fixture()
def storage_suite(tmp_path: Path) -> Iterator[Suite]:
    env = {
        "LABELOPS_PORT": str(free_loopback_port()),
        "LABELOPS_SECRET_KEY": SECRET,
        "LABELOPS_ADMIN_EMAIL": ADMIN_EMAIL,
        "LABELOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LABELOPS_ADMIN_TOKEN": ADMIN_TOKEN,
        "LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
        # Small pages and a short lease: a sync spans many commits, and a dead worker's
        # job is free for the next one a few seconds after it died.
        "LABELOPS_STORAGE_SYNC_LISTING_PAGE_SIZE": "25",
        "LABELOPS_JOB_LEASE_SECONDS": "3",
    }
    with (
        scratch_redis_url() as broker,
        embedded_data_dir() as data_dir,
        service_databases() as urls,
    ):
        env.update(urls, LABELOPS_DATA_DIR=str(data_dir), LABELOPS_BROKER_URL=broker)
        suite = Suite(tmp_path, env)
        suite.start()
        yield suite
        if suite.running is not None and suite.running.process.poll() is None:
            stop(suite.running)


def eventually(check: Callable[[], Any], *, timeout: float, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def task_images(base_url: str, project_id: int) -> list[str]:
    answer = httpx.get(
        f"{base_url}/api/tasks?project={project_id}&page_size=100000", headers=HEADERS, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return [task["data"]["image"] for task in answer.json()["tasks"]]


def test_the_sdk_creates_and_syncs_an_s3_storage(
    storage_suite: Suite, s3: Any, s3_endpoint: str
) -> None:
    bucket = f"sdk-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    put_objects(s3, bucket, [f"images/{n:03d}.jpg" for n in range(40)] + ["images/readme.txt"])
    sdk = LabelStudio(base_url=storage_suite.base_url, api_key=ADMIN_TOKEN)
    project = sdk.projects.create(title="SDK storage", label_config=CONFIG)
    assert project.id is not None
    sdk.import_storage.s3.validate(
        project=project.id,
        bucket=bucket,
        s3endpoint=s3_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    storage = sdk.import_storage.s3.create(
        project=project.id,
        title="Images",
        bucket=bucket,
        prefix="images",
        regex_filter=r".*\.jpg$",
        use_blob_urls=True,
        presign=True,
        presign_ttl=15,
        s3endpoint=s3_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    assert storage.id is not None
    assert storage.aws_secret_access_key != SECRET_KEY
    listed = sdk.import_storage.s3.list(project=project.id)
    assert [item.id for item in listed] == [storage.id]
    queued = sdk.import_storage.s3.sync(id=storage.id)
    assert queued.status in ("queued", "in_progress", "completed")
    done = eventually(
        lambda: (found := sdk.import_storage.s3.get(id=storage.id)).status == "completed" and found,
        timeout=90,
    )
    assert done, storage_suite.logs()
    assert done.last_sync_count == 40
    images = task_images(storage_suite.base_url, project.id)
    assert sorted(images) == [f"s3://{bucket}/images/{n:03d}.jpg" for n in range(40)]
    # The SDK updates and re-syncs: only the new object comes in (it sorts after the
    # listing's checkpoint, `images/readme.txt`, so the re-sync lists only it).
    put_objects(s3, bucket, ["images/zzz.jpg"])
    sdk.import_storage.s3.update(id=storage.id, title="Images, renamed")
    sdk.import_storage.s3.sync(id=storage.id)
    again = eventually(
        lambda: (
            (found := sdk.import_storage.s3.get(id=storage.id)).status == "completed"
            and found.last_sync_count == 1
            and found
        ),
        timeout=90,
    )
    assert again, storage_suite.logs()
    assert again.title == "Images, renamed"
    assert len(task_images(storage_suite.base_url, project.id)) == 41
    sdk.import_storage.s3.delete(id=storage.id)
    assert sdk.import_storage.s3.list(project=project.id) == []


def test_a_sync_killed_with_sigkill_finishes_after_restart_without_duplicates(
    storage_suite: Suite, s3: Any, s3_endpoint: str
) -> None:
    total = 500
    bucket = f"kill-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    expected = [f"s3://{bucket}/{n:04d}.jpg" for n in range(total)]
    put_objects(s3, bucket, [f"{n:04d}.jpg" for n in range(total)])
    base = storage_suite.base_url
    project = httpx.post(
        f"{base}/api/projects", json={"title": "Kill", "label_config": CONFIG}, headers=HEADERS
    ).json()
    created = httpx.post(
        f"{base}/api/storages/s3/",
        json={
            "project": project["id"],
            "bucket": bucket,
            "use_blob_urls": True,
            "s3_endpoint": s3_endpoint,
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
            "region_name": "us-east-1",
        },
        headers=HEADERS,
    )
    assert created.status_code == 201, created.text
    storage_id = created.json()["id"]
    sync = httpx.post(f"{base}/api/storages/s3/{storage_id}/sync", headers=HEADERS)
    assert sync.status_code == 200

    def count() -> int:
        answer = httpx.get(
            f"{base}/api/tasks?project={project['id']}&page_size=1", headers=HEADERS, timeout=10
        )
        total_now: int = answer.json()["total"]
        return total_now

    started = eventually(lambda: count() > 0, timeout=60, interval=0.05)
    assert started, storage_suite.logs()
    storage_suite.kill()
    storage_suite.start()
    before = count()
    assert 0 < before < total, f"the kill missed the sync ({before} of {total} tasks existed)"

    def completed() -> bool:
        answer = httpx.get(f"{base}/api/storages/s3/{storage_id}", headers=HEADERS, timeout=10)
        status: str = answer.json()["status"]
        return status == "completed"

    # The stale-job sweep (every 30 s) finds the job whose worker died and sends it again.
    assert eventually(completed, timeout=120, interval=0.5), storage_suite.logs()
    images = task_images(base, project["id"])
    assert len(images) == total, f"{len(images)} tasks for {total} objects"
    assert sorted(images) == expected
    resynced = httpx.post(f"{base}/api/storages/s3/{storage_id}/sync", headers=HEADERS)
    assert resynced.status_code == 200
    assert eventually(completed, timeout=60, interval=0.5)
    assert len(task_images(base, project["id"])) == total

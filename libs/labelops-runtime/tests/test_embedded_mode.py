"""`make run`'s mode as real processes: every database and the queue on the embedded PostgreSQL.

Nothing is configured but a data directory: the `labelops` command starts the embedded
server there, serves, and stops it with itself, also when it is killed.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from labelops_common.embedded_postgres import EmbeddedPostgres
from labelops_common.settings import DEVELOPMENT_SECRET_KEY, SECRET_KEY_FILE
from labelops_runtime.suite import free_loopback_port
from labelops_testing.databases import embedded_data_dir
from labelops_testing.processes import spawned_children, wait_until_answering

TOKEN = "e" * 40
AUTH = {"Authorization": f"Token {TOKEN}"}
SECRET = "embedded-mode-test-secret-key-0123456789abcdef"
CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="a"/></Choices></View>'


class Serve:
    """One `labelops serve --target all` on a data directory, restartable."""

    def __init__(self, data_dir: Path, log_dir: Path) -> None:
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.port = free_loopback_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(
        self, *args: str, env: dict[str, str] | None = None, secret_key: str | None = SECRET
    ) -> float:
        """Start and wait until the API answers; returns the seconds that took.

        `secret_key=None` leaves LABELOPS_SECRET_KEY unset, as `make run` does."""
        clean = {k: v for k, v in os.environ.items() if not k.startswith("LABELOPS_")}
        if secret_key is not None:
            clean["LABELOPS_SECRET_KEY"] = secret_key
        self.starts += 1
        log_path = self.log_dir / f"serve-{self.starts}.log"
        started = time.monotonic()
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "labelops_runtime.cli", "serve", "--target", "all"),
                    *("--port", str(self.port), *args),
                ],
                env=clean
                | {
                    "LABELOPS_DATA_DIR": str(self.data_dir),
                    "LABELOPS_ADMIN_EMAIL": "owner@example.com",
                    "LABELOPS_ADMIN_PASSWORD": "owner-password-123",
                    "LABELOPS_ADMIN_TOKEN": TOKEN,
                    "LABELOPS_LOG_LEVEL": "WARNING",
                    # Every import with a body is a queued job.
                    "LABELOPS_TASK_SVC_IMPORT_SYNC_MAX_BYTES": "16",
                    **(env or {}),
                },
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_answering(
            f"{self.url}/api/version",
            self.process,
            log_path=log_path,
            # Generous: creating the cluster and starting N processes on a loaded 2-core CI
            # machine has taken over 90 s.
            deadline=time.monotonic() + 180,
        )
        return time.monotonic() - started

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout=60)

    def server_pid(self) -> int | None:
        pid_file = EmbeddedPostgres(self.data_dir).pgdata / "postmaster.pid"
        if not pid_file.exists():
            return None
        return int(pid_file.read_text().split()[0])

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=AUTH, timeout=30)


@pytest.fixture()
def serve(tmp_path: Path) -> Iterator[Serve]:
    with embedded_data_dir() as data_dir:
        running = Serve(data_dir, tmp_path)
        try:
            yield running
        finally:
            if running.process is not None and running.process.poll() is None:
                running.process.kill()
                running.process.wait(timeout=30)
            _wait_gone(running.server_pid())


def _wait_gone(pid: int | None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while pid is not None and Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, f"PostgreSQL {pid} still runs"
        time.sleep(0.1)


def _import(client: httpx.Client, project: int, count: int, tag: str) -> int:
    items = [{"text": f"{tag}-{i}"} for i in range(count)]
    answer = client.post(
        f"/api/projects/{project}/import",
        content=json.dumps(items),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 201, answer.text
    job_id: int = answer.json()["import"]
    return job_id


def _status(client: httpx.Client, project: int, job_id: int) -> dict[str, Any]:
    answer = client.get(f"/api/projects/{project}/imports/{job_id}")
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _wait_completed(client: httpx.Client, project: int, job_id: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (status := _status(client, project, job_id))["status"] != "completed":
        assert status["status"] != "failed", status
        assert time.monotonic() < deadline, f"import {job_id} not done: {status}"
        time.sleep(0.5)


def test_data_lives_in_the_embedded_postgres_across_restarts(serve: Serve) -> None:
    serve.start()
    pid = serve.server_pid()
    assert pid is not None and Path(f"/proc/{pid}").exists()
    assert (serve.data_dir / "postgres" / "PG_VERSION").read_text().strip() == "18"
    with serve.client() as client:
        project = client.post("/api/projects", json={"title": "kept", "label_config": CONFIG})
        assert project.status_code == 201, project.text
        project_id = project.json()["id"]
        _wait_completed(client, project_id, _import(client, project_id, 3, "a"), timeout=60)

    # SIGTERM stops LabelOps and then its PostgreSQL.
    assert serve.stop() == 0
    _wait_gone(pid)

    serve.start()
    assert serve.server_pid() != pid
    with serve.client() as client:
        kept = client.get(f"/api/projects/{project_id}")
        assert kept.status_code == 200 and kept.json()["title"] == "kept"
        assert kept.json()["task_number"] == 3


#: A dead worker's job is sent again within lease + sweep interval of its last heartbeat:
#: 60 s + 30 s by default, 15 s here.
SHORT_LEASE = {"LABELOPS_JOB_LEASE_SECONDS": "10", "LABELOPS_JOB_SWEEP_INTERVAL_SECONDS": "5"}


def test_a_killed_run_finishes_its_queued_and_half_done_jobs_after_a_restart(
    serve: Serve,
) -> None:
    serve.start(env=SHORT_LEASE)
    with serve.client() as client:
        project_id = client.post(
            "/api/projects", json={"title": "crash", "label_config": CONFIG}
        ).json()["id"]
        # Half-done: a large import, killed while it runs.
        large = _import(client, project_id, 200_000, "large")
        deadline = time.monotonic() + 60
        while _status(client, project_id, large)["status"] == "created":
            assert time.monotonic() < deadline, "the large import never started"
            time.sleep(0.05)
        assert _status(client, project_id, large)["status"] != "completed"
    pid = serve.server_pid()
    serve.stop(signal.SIGKILL)
    # The kernel tells the orphaned PostgreSQL, which shuts down.
    _wait_gone(pid)

    # Queued: an import sent while no worker runs, then killed again.
    serve.start("--no-worker", env=SHORT_LEASE)
    with serve.client() as client:
        queued = _import(client, project_id, 5, "queued")
        assert _status(client, project_id, queued)["status"] == "created"
    serve.stop(signal.SIGKILL)
    _wait_gone(serve.server_pid())

    # After a restart both finish, each once: the large one when its dead worker's lease
    # runs out and the sweeper sends it again.
    serve.start(env=SHORT_LEASE)
    with serve.client() as client:
        _wait_completed(client, project_id, queued, timeout=60)
        _wait_completed(client, project_id, large, timeout=180)
        project = client.get(f"/api/projects/{project_id}").json()
        assert project["task_number"] == 200_005


def _signed_in_cookies(serve: Serve) -> list[httpx.Cookies]:
    """Session cookies of logins on new connections, so each process signs some."""
    signed: list[httpx.Cookies] = []
    for _ in range(8):
        with httpx.Client(base_url=serve.url, timeout=30) as browser:
            answer = browser.post(
                "/user/login",
                json={"email": "owner@example.com", "password": "owner-password-123"},
            )
            assert answer.status_code == 200, answer.text
            signed.append(browser.cookies)
    return signed


def _accepted_everywhere(serve: Serve, signed: list[httpx.Cookies]) -> None:
    """Each session is accepted on new connections, wherever the request lands."""
    for cookies in signed:
        for _ in range(4):
            with httpx.Client(base_url=serve.url, cookies=cookies, timeout=30) as browser:
                answer = browser.get("/api/current-user/whoami")
                assert answer.status_code == 200, answer.text
                assert answer.json()["email"] == "owner@example.com"


def test_serves_with_processes_on_the_embedded_database_and_queue(serve: Serve) -> None:
    # Nothing but a data directory, as `make run`: the processes share the key generated
    # there, so a session signed by one is accepted by the other, also after a restart.
    serve.start("--processes", "2", secret_key=None)
    key_file = serve.data_dir / SECRET_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text() != DEVELOPMENT_SECRET_KEY
    signed = _signed_in_cookies(serve)
    _accepted_everywhere(serve, signed)
    with serve.client() as client:
        project_id = client.post(
            "/api/projects", json={"title": "two", "label_config": CONFIG}
        ).json()["id"]
        jobs = [_import(client, project_id, 10, f"p{n}") for n in range(4)]
        for job_id in jobs:
            _wait_completed(client, project_id, job_id, timeout=60)
        assert client.get(f"/api/projects/{project_id}").json()["task_number"] == 40
    pid = serve.server_pid()
    assert serve.stop() == 0
    _wait_gone(pid)

    # Killed outright, the parent takes its server processes and PostgreSQL along, so the
    # next start finds the port and the data directory free.
    serve.start("--processes", "2", secret_key=None)
    assert serve.process is not None
    children = spawned_children(serve.process.pid)
    assert len(children) == 3  # two HTTP server processes and the events process
    pid = serve.server_pid()
    serve.stop(signal.SIGKILL)
    for child in children:
        _wait_gone(child)
    _wait_gone(pid)
    serve.start("--processes", "2", secret_key=None)
    with serve.client() as client:
        assert client.get(f"/api/projects/{project_id}").json()["task_number"] == 40
    _accepted_everywhere(serve, signed)


def test_a_cluster_of_another_major_version_is_refused(serve: Serve) -> None:
    pgdata = serve.data_dir / "postgres"
    pgdata.mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text("15\n")
    with pytest.raises(RuntimeError) as refused:
        serve.start()
    assert "holds a PostgreSQL 15 cluster" in str(refused.value)
    assert "ships PostgreSQL 18" in str(refused.value)
    assert "Traceback" not in str(refused.value)

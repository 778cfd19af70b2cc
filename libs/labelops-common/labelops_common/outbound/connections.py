"""Keep-alive HTTP/1.1 connections on the standard library's `http.client`, pinned like
every other outbound connection: for a hot path of many small POSTs (webhook deliveries).

httpx and httpcore parse each exchange through h11's state machine; on this path that
cost about 0.3 ms of CPU per request against 0.13 ms for `http.client` (whose status line
and header parsing is the interpreter's own), and the CPU a delivery costs is CPU the
annotators do not get on a busy host. What stays the same: the host is resolved, every
address checked by the policy, and the connection made to a checked address
(`connect`); TLS verifies the certificate against the URL's host name; no proxy
environment variable is read; redirects are not followed.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import time
from collections import deque
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from labelops_common.outbound.policy import OutboundPolicy

#: A connection idle longer than this is closed rather than reused: servers commonly
#: close idle keep-alive connections after 5 s (uvicorn, nginx's default is 75 s), and a
#: request written into a connection the server is closing fails for nothing.
KEEPALIVE_SECONDS = 4.0
#: An answer's body is read (and the connection kept) up to this size; a larger one is
#: dropped with its connection.
MAX_ANSWER_BYTES = 64 * 1024
#: Idle connections kept per origin.
MAX_IDLE_PER_ORIGIN = 32

#: What writing to a kept connection the server has closed raises (`RemoteDisconnected` is a
#: `ConnectionResetError`).
STALE_CONNECTION_ERRORS = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)
#: What a failed exchange raises, besides the policy's `OutboundRefused` (a `ValueError`).
REQUEST_ERRORS: tuple[type[Exception], ...] = (OSError, http.client.HTTPException)


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects only to an address the policy has checked, trying each in turn."""

    def __init__(self, host: str, port: int, *, policy: OutboundPolicy, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._policy = policy

    def connect(self) -> None:
        failure: OSError | None = None
        for address in self._policy.vetted_addresses(self.host, self.port):
            try:
                self.sock = socket.create_connection((address, self.port), self.timeout)
            except OSError as error:
                failure = error
                continue
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return
        assert failure is not None  # vetted_addresses never returns an empty list
        raise failure


class PinnedHTTPSConnection(PinnedHTTPConnection):
    def __init__(
        self,
        host: str,
        port: int,
        *,
        policy: OutboundPolicy,
        timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, policy=policy, timeout=timeout)
        self._context = context

    def connect(self) -> None:
        super().connect()
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


class PinnedConnections:
    """Idle keep-alive connections per origin (scheme, host, port), each used by one
    thread at a time. A connection goes back only after its answer was read whole; one
    idle too long, or readable while idle (the server closed it), is dropped at checkout.
    """

    def __init__(self, policy: OutboundPolicy, *, context: ssl.SSLContext) -> None:
        self._policy = policy
        self._context = context
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, int], deque[tuple[float, PinnedHTTPConnection]]] = {}

    def post(self, url: str, *, content: bytes, headers: dict[str, str], timeout: float) -> int:
        """POST `content` to `url`; the answer's status code. Raises `OutboundRefused`
        (before any byte is sent) or one of `REQUEST_ERRORS`. `Host`, `Content-Length`
        and `Accept-Encoding: identity` are added here."""
        self._policy.check_scheme(url)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        origin = (scheme, host, port)
        connection, reused = self._checkout(origin, timeout)
        try:
            answer = _exchange(connection, target, content, headers)
        except STALE_CONNECTION_ERRORS:
            if not reused:
                raise
            # A kept connection the server closed as we wrote to it (it said nothing before,
            # or a poll would have seen the close): once more on a new one.
            connection, _ = self._checkout(origin, timeout, fresh=True)
            answer = _exchange(connection, target, content, headers)
        if answer.isclosed() and not answer.will_close:
            self._checkin(origin, connection)
        else:
            connection.close()
        return answer.status

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for _, connection in connections:
                connection.close()

    def __enter__(self) -> PinnedConnections:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _checkout(
        self, origin: tuple[str, str, int], timeout: float, *, fresh: bool = False
    ) -> tuple[PinnedHTTPConnection, bool]:
        """A kept connection to `origin` that still looks open, else a new one; and whether
        it was kept."""
        now = time.monotonic()
        while not fresh:
            with self._lock:
                idle = self._idle.get(origin)
                entry = idle.pop() if idle else None
            if entry is None:
                break
            since, connection = entry
            if now - since < KEEPALIVE_SECONDS and not _readable(connection):
                connection.timeout = timeout
                if connection.sock is not None:
                    connection.sock.settimeout(timeout)
                return connection, True
            connection.close()
        scheme, host, port = origin
        if scheme == "https":
            https = PinnedHTTPSConnection(
                host, port, policy=self._policy, timeout=timeout, context=self._context
            )
            return https, False
        return PinnedHTTPConnection(host, port, policy=self._policy, timeout=timeout), False

    def _checkin(self, origin: tuple[str, str, int], connection: PinnedHTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, deque())
            if len(idle) < MAX_IDLE_PER_ORIGIN:
                idle.append((time.monotonic(), connection))
                return
        connection.close()


def _exchange(
    connection: PinnedHTTPConnection, target: str, content: bytes, headers: dict[str, str]
) -> http.client.HTTPResponse:
    """One request and its whole answer (up to `MAX_ANSWER_BYTES`); the connection is closed
    if it fails."""
    try:
        connection.request("POST", target, body=content, headers=headers)
        answer = connection.getresponse()
        answer.read(MAX_ANSWER_BYTES)
    except BaseException:
        connection.close()
        raise
    return answer


def _readable(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle connection has something to read: the server closed it (or broke
    the protocol by talking unasked), so it cannot carry another request."""
    sock = connection.sock
    if sock is None:
        return True
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    poller = select.poll()  # not select(): a busy process's descriptors can pass 1023
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))

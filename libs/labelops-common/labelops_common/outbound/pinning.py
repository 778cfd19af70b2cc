"""httpcore network backends that connect only to addresses the policy has checked.

httpx has no resolver hook; httpcore's network backend is where a host name becomes a
socket, so that is where the policy resolves, checks and connects to the checked address.
TLS still verifies the certificate against the URL's host name: httpcore passes it as
`server_hostname` when it starts TLS on the stream we return.
"""

from __future__ import annotations

import ssl
import typing
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

if TYPE_CHECKING:
    from labelops_common.outbound.policy import OutboundPolicy

SocketOptions = typing.Iterable[Any] | None


class PinnedSyncBackend(httpcore.NetworkBackend):
    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in self._policy.vetted_addresses(host, port):
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None  # vetted_addresses never returns an empty list
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: SocketOptions = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("outbound fetches never use Unix sockets")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class PinnedAsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: Exception | None = None
        for address in await self._policy.vetted_addresses_async(host, port):
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: SocketOptions = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("outbound fetches never use Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def ssl_context(verify: ssl.SSLContext | str | bool) -> ssl.SSLContext:
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return ssl.create_default_context()


def sync_pool(
    backend: httpcore.NetworkBackend, verify: ssl.SSLContext | str | bool, **kwargs: Any
) -> httpcore.ConnectionPool:
    return httpcore.ConnectionPool(
        ssl_context=ssl_context(verify), network_backend=backend, **kwargs
    )


def sync_transport(
    backend: httpcore.NetworkBackend, verify: ssl.SSLContext | str | bool
) -> httpx.HTTPTransport:
    context = ssl_context(verify)
    transport = httpx.HTTPTransport(verify=context, trust_env=False)
    # httpx does not expose the network backend; its pool is the documented httpcore one.
    transport._pool = sync_pool(backend, context)
    return transport


def async_transport(
    backend: httpcore.AsyncNetworkBackend, verify: ssl.SSLContext | str | bool
) -> httpx.AsyncHTTPTransport:
    context = ssl_context(verify)
    transport = httpx.AsyncHTTPTransport(verify=context, trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(ssl_context=context, network_backend=backend)
    return transport

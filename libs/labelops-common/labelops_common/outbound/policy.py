"""`OutboundPolicy`: which addresses a server-side fetch may reach, and clients that obey it."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx

from labelops_common.outbound.connections import PinnedConnections
from labelops_common.outbound.pinning import (
    PinnedAsyncBackend,
    PinnedSyncBackend,
    async_transport,
    ssl_context,
    sync_transport,
)
from labelops_common.settings import get_common_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_SCHEMES = frozenset({"http", "https"})


class OutboundRefused(ValueError):
    """A fetch the policy does not allow; `reason` says why, in words for an API answer."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{reason}: {url}" if url else reason)
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class OutboundPolicy:
    allow_private_networks: bool = False
    schemes: frozenset[str] = DEFAULT_SCHEMES

    # -- checks ----------------------------------------------------------------------------

    def check_url(self, url: str) -> None:
        """Refuse `url` if its scheme or any address its host resolves to is not allowed."""
        host, port = self._host_and_port(url)
        self.vetted_addresses(host, port, url=url)

    def check_scheme(self, url: str) -> None:
        self._host_and_port(url)

    def address_refusal(self, address: IPAddress) -> str | None:
        """Why `address` may not be reached, or None when it may."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_unspecified or address.is_multicast:
            return f"{address} is not a destination address"
        if address.is_link_local:
            # Cloud metadata endpoints (169.254.169.254) live here: never, whatever the setting.
            return f"{address} is a link-local address, refused by the outbound address policy"
        if self.allow_private_networks or address.is_global:
            return None
        if address.is_loopback:
            kind = "a loopback"
        elif address.is_private:
            kind = "a private"
        else:
            kind = "a reserved"
        return (
            f"{address} is {kind} address, refused by the outbound address policy "
            "(LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS)"
        )

    def vetted_addresses(self, host: str, port: int, *, url: str = "") -> list[str]:
        """The addresses `host` resolves to, all checked; raises if none may be reached."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise OutboundRefused(url, f"cannot resolve host {host!r} ({error})") from None
        return self._vet(host, [str(info[4][0]) for info in infos], url)

    async def vetted_addresses_async(self, host: str, port: int, *, url: str = "") -> list[str]:
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise OutboundRefused(url, f"cannot resolve host {host!r} ({error})") from None
        return self._vet(host, [str(info[4][0]) for info in infos], url)

    # -- clients ---------------------------------------------------------------------------

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client whose every connection (redirects included) passes this policy."""
        transport = sync_transport(PinnedSyncBackend(self), kwargs.pop("verify", True))
        return httpx.Client(
            transport=transport,
            trust_env=False,
            event_hooks={"request": [self._check_request]},
            **kwargs,
        )

    def connections(self, *, verify: Any = True) -> PinnedConnections:
        """Keep-alive `http.client` connections that pass this policy, for a hot path of
        many small POSTs (webhook deliveries) without httpx's layers per request. It
        follows no redirects and checks each URL's scheme."""
        return PinnedConnections(self, context=ssl_context(verify))

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        transport = async_transport(PinnedAsyncBackend(self), kwargs.pop("verify", True))
        return httpx.AsyncClient(
            transport=transport,
            trust_env=False,
            event_hooks={"request": [self._check_request_async]},
            **kwargs,
        )

    # -- internals -------------------------------------------------------------------------

    def _host_and_port(self, url: str) -> tuple[str, int]:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise OutboundRefused(url, f"not a valid URL ({error})") from None
        scheme = parts.scheme.lower()
        if scheme not in self.schemes:
            allowed = ", ".join(sorted(self.schemes))
            raise OutboundRefused(url, f"scheme {scheme or '(none)'!r} is not allowed ({allowed})")
        if not parts.hostname:
            raise OutboundRefused(url, "the URL has no host")
        if parts.username is not None and "@" in (parts.hostname or ""):
            raise OutboundRefused(url, "the URL's host is ambiguous")
        return parts.hostname, port or (443 if scheme == "https" else 80)

    def _vet(self, host: str, addresses: list[str], url: str) -> list[str]:
        vetted: list[str] = []
        for text in dict.fromkeys(addresses):
            address = ipaddress.ip_address(text.split("%", 1)[0])
            refusal = self.address_refusal(address)
            if refusal is not None:
                # One bad answer refuses the host: which one a client uses is not ours to pick.
                raise OutboundRefused(url, f"{host} resolves to {refusal}")
            vetted.append(text)
        if not vetted:
            raise OutboundRefused(url, f"host {host!r} resolves to no address")
        return vetted

    def _check_request(self, request: httpx.Request) -> None:
        self.check_scheme(str(request.url))

    async def _check_request_async(self, request: httpx.Request) -> None:
        self.check_scheme(str(request.url))


def outbound_policy() -> OutboundPolicy:
    """The process's policy, from `LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS`."""
    return OutboundPolicy(
        allow_private_networks=get_common_settings().outbound_allow_private_networks
    )

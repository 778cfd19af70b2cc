"""The outbound policy against real loopback servers: refused by default, pinned, redirects."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from labelops_common.outbound import OutboundPolicy, OutboundRefused, outbound_policy
from labelops_common.outbound.policy import IPAddress
from labelops_common.settings import get_common_settings


class _Handler(BaseHTTPRequestHandler):
    redirect_to = ""

    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to)  # type: ignore[attr-defined]
            self.end_headers()
            return
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.redirect_to = ""  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(httpd: ThreadingHTTPServer, path: str = "/", host: str = "127.0.0.1") -> str:
    return f"http://{host}:{httpd.server_address[1]}{path}"


@dataclass(frozen=True)
class _OnlyFirstLoopback(OutboundPolicy):
    """Private networks allowed except 127.0.0.2: stands in for "a refused address"."""

    def address_refusal(self, address: IPAddress) -> str | None:
        if address == ipaddress.ip_address("127.0.0.2"):
            return "127.0.0.2 is refused in this test"
        return super().address_refusal(address)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://localhost:8080/x", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.10/", "private"),
        ("http://100.64.0.1/", "reserved"),
        ("http://0.0.0.0/", "not a destination"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://example.com/", "scheme 'gopher'"),
        ("http:///nohost", "no host"),
        ("http://host.invalid/", "cannot resolve"),
        ("http://[::1/", "not a valid URL"),
    ],
)
def test_default_policy_refuses_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        OutboundPolicy().check_url(url)
    assert reason in refused.value.reason


def test_public_addresses_pass_without_a_connection() -> None:
    OutboundPolicy().check_url("https://8.8.8.8/")
    OutboundPolicy().check_url("http://[2606:4700:4700::1111]:8080/")


def test_allowing_private_networks_still_refuses_non_destinations() -> None:
    policy = OutboundPolicy(allow_private_networks=True)
    policy.check_url("http://127.0.0.1:9/")
    policy.check_url("http://10.0.0.1/")
    with pytest.raises(OutboundRefused):
        policy.check_url("http://0.0.0.0/")
    for metadata in ("http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/"):
        with pytest.raises(OutboundRefused) as refused:
            policy.check_url(metadata)
        assert "link-local" in refused.value.reason
    with pytest.raises(OutboundRefused):
        policy.check_url("ftp://127.0.0.1/")


def test_client_refuses_loopback_under_the_default_policy(server: ThreadingHTTPServer) -> None:
    with OutboundPolicy().client() as client, pytest.raises(OutboundRefused) as refused:
        client.get(_url(server))
    assert "loopback" in refused.value.reason
    with OutboundPolicy().client() as client, pytest.raises(OutboundRefused):
        client.get(_url(server, host="localhost"))


def test_client_reaches_loopback_when_private_networks_are_allowed(
    server: ThreadingHTTPServer,
) -> None:
    with OutboundPolicy(allow_private_networks=True).client() as client:
        answer = client.get(_url(server, host="localhost"))
    assert answer.status_code == 200
    assert answer.text == "hello"


def test_a_redirect_to_a_refused_address_is_refused(server: ThreadingHTTPServer) -> None:
    server.redirect_to = _url(server, "/", host="127.0.0.2")  # type: ignore[attr-defined]
    policy = _OnlyFirstLoopback(allow_private_networks=True)
    with policy.client(follow_redirects=True) as client:
        assert client.get(_url(server)).text == "hello"
        with pytest.raises(OutboundRefused) as refused:
            client.get(_url(server, "/redirect"))
    assert "127.0.0.2" in refused.value.reason


def test_a_redirect_to_another_scheme_is_refused(server: ThreadingHTTPServer) -> None:
    server.redirect_to = _url(server).replace("http:", "https:")  # type: ignore[attr-defined]
    policy = OutboundPolicy(allow_private_networks=True, schemes=frozenset({"http"}))
    with policy.client(follow_redirects=True) as client, pytest.raises(OutboundRefused) as refused:
        client.get(_url(server, "/redirect"))
    assert "scheme 'https' is not allowed" in refused.value.reason


def test_async_client_obeys_the_same_policy(server: ThreadingHTTPServer) -> None:
    async def fetch(policy: OutboundPolicy, url: str) -> str:
        async with policy.async_client(follow_redirects=True) as client:
            return (await client.get(url)).text

    assert asyncio.run(fetch(OutboundPolicy(allow_private_networks=True), _url(server))) == "hello"
    with pytest.raises(OutboundRefused):
        asyncio.run(fetch(OutboundPolicy(), _url(server)))
    server.redirect_to = _url(server, "/", host="127.0.0.2")  # type: ignore[attr-defined]
    with pytest.raises(OutboundRefused):
        asyncio.run(
            fetch(_OnlyFirstLoopback(allow_private_networks=True), _url(server, "/redirect"))
        )


def test_process_policy_reads_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    get_common_settings.cache_clear()
    try:
        monkeypatch.delenv("LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS", raising=False)
        assert outbound_policy().allow_private_networks is False
        get_common_settings.cache_clear()
        monkeypatch.setenv("LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS", "true")
        assert outbound_policy().allow_private_networks is True
    finally:
        get_common_settings.cache_clear()

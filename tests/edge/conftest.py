"""The real nginx edge (rendered by scripts/edge.py) in front of the one-process-per-service suite."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from labelops_runtime.suite import free_loopback_port
from labelops_testing import stack as stacks
from labelops_testing.processes import stop_process

from .loader import edge_module

NGINX = Path("/usr/sbin/nginx")
ALLOWED_ORIGIN = "https://app.example.com"
REFUSED_ORIGIN = "https://evil.example.net"
#: The UI the edge serves in these tests (the real one is web/dist, built by npm).
INDEX_HTML = "<!doctype html><title>LabelOps test UI</title><div id=root></div>"
ASSET_JS = "console.log('labelops');\n"


@dataclass
class Edge:
    https_url: str
    http_url: str
    conf_dir: Path
    stack: Any
    process: subprocess.Popen[bytes]
    error_log: Path
    #: Trusts only the test's self-signed certificate, so TLS is really verified.
    tls: ssl.SSLContext

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.https_url, verify=self.tls, timeout=60)


def write_self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    running = stacks.acquire_stack(tmp_path_factory.mktemp("stack"))
    try:
        yield running
    finally:
        stacks.release_stack()


def render_test_edge(
    directory: Path, *, upstreams: dict[str, str], http_port: int, https_port: int
) -> Path:
    """Renders the edge into `directory` with test ports, certificate, UI and log files."""
    edge = edge_module()
    cert, key = write_self_signed_certificate(directory)
    web_root = directory / "web"
    (web_root / "assets").mkdir(parents=True)
    (web_root / "index.html").write_text(INDEX_HTML)
    (web_root / "assets" / "app.js").write_text(ASSET_JS)
    (directory / "temp").mkdir()
    conf_dir = directory / "conf"
    settings = edge.EdgeSettings(
        server_name="localhost",
        public_authority=f"localhost:{https_port}",
        allowed_origins=[ALLOWED_ORIGIN],
        upstreams=upstreams,
        tls_certificate=str(cert),
        tls_certificate_key=str(key),
        web_root=str(web_root),
        http_listen=f"127.0.0.1:{http_port}",
        https_listen=f"127.0.0.1:{https_port}",
        temp_dir=str(directory / "temp"),
        pid_file=str(directory / "nginx.pid"),
        error_log=str(directory / "error.log"),
        access_log=str(directory / "access.log"),
        # The master runs as root here; workers as root read the pytest temp directory.
        user="root",
    )
    edge.write_edge(settings, conf_dir)
    return conf_dir / "nginx.conf"


@pytest.fixture(scope="session")
def edge(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    if not NGINX.exists():
        raise RuntimeError(f"{NGINX} is missing; scripts/testinfra.sh installs nginx")
    directory = tmp_path_factory.mktemp("edge")
    http_port, https_port = free_loopback_port(), free_loopback_port()
    upstreams = {
        name: process.url.removeprefix("http://") for name, process in stack.services.items()
    }
    conf = render_test_edge(
        directory, upstreams=upstreams, http_port=http_port, https_port=https_port
    )
    tls = ssl.create_default_context(cafile=str(directory / "tls.crt"))
    check = subprocess.run(
        [str(NGINX), "-t", "-p", str(directory), "-c", str(conf)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [str(NGINX), "-p", str(directory), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    running = Edge(
        https_url=f"https://localhost:{https_port}",
        http_url=f"http://localhost:{http_port}",
        conf_dir=conf.parent,
        stack=stack,
        process=process,
        error_log=directory / "error.log",
        tls=tls,
    )
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {process.stderr.read() if process.stderr else ''!r}")
        try:
            httpx.get(running.https_url + "/", verify=tls, timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.1)
    try:
        yield running
    finally:
        stop_process(process)

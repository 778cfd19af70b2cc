"""`uv run python -m bench.storage.snapshot_stream`: how much memory writing one snapshot
file to an S3 export storage takes, by the file's size.

export-svc's `StorageClient.write` reads the file from a local artifact store and streams
it over gRPC (`WriteExportArtifact`) to storage-sync, which uploads it into moto's S3 with
the storage's client wrapper; both services' code run in one process (a fresh one per
size), so its peak RSS counts both ends. Flat memory means the growth does not follow the
size. Needs the test PostgreSQL (`set -a && . .testinfra/env && set +a`).

    SIZES_MIB=32,256     file sizes, one process each
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1024 * 1024
SECRET = "snapshot-stream-bench-secret-0123456789abcdef"  # noqa: S105 - throwaway
ACCESS_KEY = "AKIASNAPSHOTSTREAM01"
SECRET_KEY = "snapshot-stream-bench-secret-key-0123456"  # noqa: S105 - moto


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(size_mib: int) -> str:
    """One size in this process: the figures as one line."""
    from export_svc.storages import StorageClient
    from labelops_common.artifacts import LocalArtifactStorage
    from labelops_common.grpcutil import build_grpc_server
    from labelops_common.migrations import upgrade_to_head
    from labelops_common.outbound import OutboundPolicy
    from labelops_common.settings import CommonSettings
    from labelops_runtime.suite import free_loopback_port
    from labelops_testing import emulators
    from labelops_testing.databases import scratch_database_url
    from pydantic import SecretStr
    from storage_sync.app import build_service
    from storage_sync.backends import ConnectContext
    from storage_sync.settings import Settings
    from storage_sync.storages.models import EXPORT, Storage
    from storage_sync.storages.secrets import SecretBox

    work = Path(tempfile.mkdtemp(prefix="snapshot-stream-"))
    with (
        emulators.moto_s3(work / "moto") as endpoint,
        scratch_database_url("bench-snapshot-stream") as url,
    ):
        s3 = emulators.moto_s3_client(endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
        s3.create_bucket(Bucket="team-exports")
        common = CommonSettings(
            data_dir=work / "data",
            secret_key=SecretStr(SECRET),
            grpc_peers={"storage-sync": f"127.0.0.1:{free_loopback_port()}"},
            log_json=False,
        )
        runtime = build_service(
            common,
            Settings(database_url=url),
            context=ConnectContext(policy=OutboundPolicy(allow_private_networks=True)),
        )
        upgrade_to_head(
            script_location=runtime.migrations_dir, database_url=url, service_name=runtime.name
        )
        server = build_grpc_server(
            service_name=runtime.name,
            bind=common.peer_address("storage-sync"),
            register=runtime.grpc_registrations,
            service_full_names=runtime.grpc_service_names,
        )
        server.start()
        try:
            box = SecretBox(common.resolved_secret_key())
            with runtime.database.session() as session:
                storage = Storage(
                    direction=EXPORT,
                    type="s3",
                    project_id=1,
                    organization_id=1,
                    settings={
                        "bucket": "team-exports",
                        "prefix": "labelops",
                        "s3_endpoint": endpoint,
                        "region_name": "us-east-1",
                    },
                    secrets=box.seal(
                        {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET_KEY}
                    ),
                    meta={},
                )
                session.add(storage)
                session.commit()
                storage_id = storage.id
            artifacts = LocalArtifactStorage(work / "artifacts")
            writer = artifacts.writer("exports/1/1.json")
            block = os.urandom(MIB)
            for _ in range(size_mib):
                writer.write(block)
            writer.commit()
            before = peak_rss_mib()
            started = time.monotonic()
            written = StorageClient(
                common, write_deadline_seconds=3600, resolve_ttl_seconds=60
            ).write(
                storage_id=storage_id,
                project_id=1,
                name="project-1-export-1.json",
                chunks=artifacts.read("exports/1/1.json"),
                size=size_mib * MIB,
            )
            seconds = time.monotonic() - started
            after = peak_rss_mib()
            stored = s3.head_object(Bucket="team-exports", Key=written.key)["ContentLength"]
            if stored != size_mib * MIB:
                raise SystemExit(f"the object has {stored} bytes, not {size_mib * MIB}")
        finally:
            server.stop(grace=0)
            runtime.close()
    return (
        f"{size_mib:>6} MiB  {seconds:7.1f} s  {size_mib / seconds:6.1f} MiB/s  "
        f"peak RSS {before:5.0f} -> {after:5.0f} MiB (+{after - before:.0f})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.storage.snapshot_stream")
    parser.add_argument("--sizes-mib", default=os.environ.get("SIZES_MIB", "32,256"))
    parser.add_argument("--one", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(measure(args.one), flush=True)
        return
    print("  size      time    throughput  peak RSS of the process (before -> after the write)")
    for size in (int(part) for part in args.sizes_mib.split(",") if part.strip()):
        # A fresh process per size: peak RSS only ever grows.
        found = subprocess.run(  # noqa: S603 - this interpreter, this module, an integer
            [sys.executable, "-m", "bench.storage.snapshot_stream", "--one", str(size)],
            capture_output=True,
            text=True,
            check=False,
        )
        lines = [line for line in found.stdout.splitlines() if "MiB" in line]
        print(
            lines[-1]
            if found.returncode == 0 and lines
            else f"{size} MiB FAILED: {found.stderr[-500:]}"
        )


if __name__ == "__main__":
    main()

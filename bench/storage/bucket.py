"""The bucket under test: moto's S3 server on loopback (`bench.storage.moto_server`, a process
of its own), holding N small objects before it answers.

Objects are a few bytes: with one task per object, a sync reads keys, never bodies.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelops_testing.emulators import moto_s3_client

from bench.infra import ROOT, free_port, log, running_server
from bench.storage.moto_server import BODY, key_name

#: moto accepts any key pair; both servers are given these.
ACCESS_KEY = "bench-access-key"
SECRET_KEY = "bench-secret-key"  # noqa: S105 - an emulator on loopback
REGION = "us-east-1"
PREFIX = "images/"
ADD_THREADS = 8


@dataclass
class Bucket:
    endpoint: str
    name: str
    client: Any
    #: Objects written so far; keys are numbered from 0, so more objects get new keys.
    count: int = 0
    #: Seconds one plain listing of the whole bucket took before the run.
    listing_floor_seconds: float | None = None

    def add(self, how_many: int) -> float:
        """Writes `how_many` new objects over HTTP; returns the seconds it took."""
        started = time.monotonic()

        def put(number: int) -> None:
            self.client.put_object(Bucket=self.name, Key=key_name(PREFIX, number), Body=BODY)

        with ThreadPoolExecutor(max_workers=ADD_THREADS) as pool:
            # list() so that a failed PUT raises here.
            list(pool.map(put, range(self.count, self.count + how_many)))
        self.count += how_many
        return time.monotonic() - started

    def list_all(self) -> tuple[int, float]:
        """(objects under the prefix, seconds): one plain listing, page by page, of what the
        emulator holds; what any sync of it spends on listing at least."""
        started = time.monotonic()
        paginator = self.client.get_paginator("list_objects_v2")
        count = sum(
            page.get("KeyCount", 0) for page in paginator.paginate(Bucket=self.name, Prefix=PREFIX)
        )
        return count, time.monotonic() - started


@contextmanager
def filled_bucket(
    work_dir: Path, name: str, objects: int, *, indexed_listing: bool = True
) -> Iterator[Bucket]:
    """A fresh moto server (its own process and memory, gone afterwards) with one bucket of
    `objects` objects."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "bench.storage.moto_server",
        "--port",
        str(port),
        "--bucket",
        name,
        "--prefix",
        PREFIX,
        "--objects",
        str(objects),
    ]
    if indexed_listing:
        command.append("--indexed-listing")
    started = time.monotonic()
    with running_server(
        name="moto S3",
        command=command,
        env={"PATH": "/usr/bin:/bin"},
        port=port,
        log_path=work_dir / "moto.log",
        health_path="/",
        startup_seconds=600,
        cwd=ROOT,
    ) as server:
        client = moto_s3_client(server.base_url, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
        bucket = Bucket(endpoint=server.base_url, name=name, client=client, count=objects)
        filled = time.monotonic() - started
        listed, seconds = bucket.list_all()
        if listed != objects:
            raise RuntimeError(f"moto lists {listed} objects, {objects} were written")
        log(
            f"moto: {objects:,} objects in s3://{name}/{PREFIX} after {filled:.1f}s; "
            f"a plain listing of them takes {seconds:.1f}s"
        )
        bucket.listing_floor_seconds = round(seconds, 2)
        yield bucket

"""The bucket under test: moto's S3 server on loopback, filled with N small objects.

Objects are written by a pool of threads over one boto3 client (thread-safe), so filling
100,000 takes the emulator's time, not the client's. Their content is a few bytes: with one
task per object, a sync reads keys, never bodies.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelops_testing.emulators import moto_s3, moto_s3_client

from bench.infra import log

#: moto accepts any key pair; both servers are given these.
ACCESS_KEY = "bench-access-key"
SECRET_KEY = "bench-secret-key"  # noqa: S105 - an emulator on loopback
REGION = "us-east-1"
PREFIX = "images/"
BODY = b"\xff\xd8\xff\xe0bench\xff\xd9"
FILL_THREADS = 16


@dataclass
class Bucket:
    endpoint: str
    name: str
    client: Any
    #: Objects written so far; keys are numbered from 0, so more objects get new keys.
    count: int = 0

    @staticmethod
    def key(number: int) -> str:
        return f"{PREFIX}{number:07d}.jpg"

    def add(self, how_many: int, *, threads: int = FILL_THREADS) -> float:
        """Writes `how_many` new objects; returns the seconds it took."""
        started = time.monotonic()
        numbers = range(self.count, self.count + how_many)

        def put(number: int) -> None:
            self.client.put_object(Bucket=self.name, Key=self.key(number), Body=BODY)

        with ThreadPoolExecutor(max_workers=threads) as pool:
            # list() so that a failed PUT raises here.
            list(pool.map(put, numbers, chunksize=256))
        self.count += how_many
        return time.monotonic() - started

    def listed(self) -> int:
        """Objects the emulator lists under the prefix (a check that the fill is complete)."""
        paginator = self.client.get_paginator("list_objects_v2")
        return sum(
            page.get("KeyCount", 0) for page in paginator.paginate(Bucket=self.name, Prefix=PREFIX)
        )


@contextmanager
def filled_bucket(work_dir: Path, name: str, objects: int) -> Iterator[Bucket]:
    """A fresh moto server (its own memory, gone afterwards) with one bucket of `objects`."""
    with moto_s3(work_dir) as endpoint:
        client = moto_s3_client(endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
        client.create_bucket(Bucket=name)
        bucket = Bucket(endpoint=endpoint, name=name, client=client)
        seconds = bucket.add(objects)
        listed = bucket.listed()
        if listed != objects:
            raise RuntimeError(f"moto lists {listed} objects after writing {objects}")
        log(f"moto {endpoint}: {objects:,} objects in s3://{name}/{PREFIX} in {seconds:.1f}s")
        yield bucket

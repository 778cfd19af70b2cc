"""`python -m bench.storage.moto_server --port P --bucket B --objects N`: moto's S3 server in
a process of its own, answering only once the bucket holds N objects.

Two things differ from `moto_server`, both so that the benchmark measures the servers under
test rather than the emulator:

- The bucket is filled in the emulator's own process (its backend's `put_object`), about
  10,000 objects/s; 100,000 PUTs over HTTP take minutes on a loaded machine.
- `--indexed-listing`: moto lists a page by filtering and sorting every key of the bucket
  (`S3Backend.list_objects`), so listing a bucket of N keys page by page costs O(N²) — about
  40 s for 20,000 keys here, and over ten minutes for 100,000 — and then renders each page
  through its generic botocore-model serializer, about 1 ms per key on this machine. With
  this flag, a listing without a delimiter (ListObjects and ListObjectsV2) takes its page
  from a sorted index of the key names and is rendered as S3's XML directly, so that a page
  costs about what it costs on S3. The keys, every other call and any listing with a
  delimiter stay moto's own.
"""

from __future__ import annotations

import argparse
import bisect
import signal
import sys
import threading
import urllib.parse
from collections.abc import Callable
from types import FrameType
from typing import Any, cast
from xml.sax.saxutils import escape

from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.s3.models import FakeBucket, FakeDeleteMarker, FakeKey, S3Backend, s3_backends
from moto.s3.responses import S3Response
from moto.utilities.utils import md5_hash

BODY = b"\xff\xd8\xff\xe0bench\xff\xd9"


class _SortedNames:
    """The bucket's key names, sorted; rebuilt when the bucket's key count changed (the
    benchmark only adds objects)."""

    def __init__(self) -> None:
        self._names: dict[str, tuple[int, list[str]]] = {}
        self._lock = threading.Lock()

    def of(self, bucket: FakeBucket) -> list[str]:
        with self._lock:
            count = len(bucket.keys)
            cached = self._names.get(bucket.name)
            if cached is None or cached[0] != count:
                cached = (count, sorted(bucket.keys.keys()))
                self._names[bucket.name] = cached
            return cached[1]


def _page(
    backend: S3Backend, bucket: FakeBucket, prefix: str, after: str | None, max_keys: int
) -> tuple[list[FakeKey], str | None]:
    """Up to `max_keys` live keys under `prefix` sorting after `after`, and the last name when
    more follow."""
    names = INDEX.of(bucket)
    start = bisect.bisect_right(names, after) if after else 0
    start = max(start, bisect.bisect_left(names, prefix))
    found: list[FakeKey] = []
    last: str | None = None
    for position in range(start, len(names)):
        name = names[position]
        if not name.startswith(prefix):
            break
        key = bucket.keys.get(name)
        if key is None or isinstance(key, FakeDeleteMarker):
            continue
        if len(found) == max_keys:
            return found, last
        found.append(key)
        last = name
    return found, None


def _token(backend: S3Backend, name: str) -> str:
    token = md5_hash(name.encode("utf-8")).hexdigest()
    backend._pagination_tokens[token] = name
    return token


def install_indexed_listing() -> None:
    original_v1: Callable[..., Any] = S3Backend.list_objects
    original_v2: Callable[..., Any] = S3Backend.list_objects_v2

    def list_objects(
        self: S3Backend,
        bucket: FakeBucket,
        prefix: str | None,
        delimiter: str | None,
        marker: str | None,
        max_keys: int | None,
    ) -> Any:
        if delimiter or max_keys is None or not isinstance(bucket, FakeBucket):
            return original_v1(self, bucket, prefix, delimiter, marker, max_keys)
        after = (self._pagination_tokens.get(marker) or marker) if marker else None
        keys, last = _page(self, bucket, prefix or "", after, max_keys)
        return keys, [], last is not None, _token(self, last) if last else None

    def list_objects_v2(
        self: S3Backend,
        bucket: FakeBucket,
        prefix: str | None,
        delimiter: str | None,
        continuation_token: str | None,
        start_after: str | None,
        max_keys: int,
    ) -> Any:
        if delimiter or not isinstance(bucket, FakeBucket):
            return original_v2(
                self, bucket, prefix, delimiter, continuation_token, start_after, max_keys
            )
        after = (
            self._pagination_tokens.get(continuation_token) if continuation_token else start_after
        )
        keys, last = _page(self, bucket, prefix or "", after, max_keys)
        return keys, last is not None, _token(self, last) if last else None

    S3Backend.list_objects = list_objects  # type: ignore[method-assign]
    S3Backend.list_objects_v2 = list_objects_v2  # type: ignore[method-assign]
    _render_listings_directly()


def _element(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def _render_listings_directly() -> None:
    """ListObjects(V2) without a delimiter, answered as S3's XML by hand."""
    original_v1: Callable[..., Any] = S3Response.list_objects
    original_v2: Callable[..., Any] = S3Response.list_objects_v2

    def respond(self: S3Response, *, version: int) -> Any:
        query = self.querystring
        if query.get("delimiter", [None])[0]:
            return (original_v2 if version == 2 else original_v1)(self)
        bucket = self.backend.get_bucket(self.bucket_name)
        prefix = self._get_querystring(self.request, self.uri).get("prefix", [None])[0] or ""
        if isinstance(prefix, bytes):
            prefix = prefix.decode("utf-8")
        max_keys = int(query.get("max-keys", ["1000"])[0])
        encoding = query.get("encoding-type", [None])[0]
        tag = "ListBucketResult"
        parts = [
            f'<?xml version="1.0" encoding="UTF-8"?><{tag} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        ]
        parts.append(_element("Name", bucket.name))
        parts.append(
            _element("Prefix", urllib.parse.quote(prefix) if encoding == "url" else prefix)
        )
        parts.append(_element("MaxKeys", max_keys))
        keys: Any
        if version == 2:
            token = query.get("continuation-token", [None])[0]
            start_after = query.get("start-after", [None])[0]
            keys, truncated, following = self.backend.list_objects_v2(
                bucket, prefix, None, token, start_after, max_keys
            )
            parts.append(_element("KeyCount", len(keys)))
        else:
            marker = query.get("marker", [None])[0]
            keys, _, truncated, following = self.backend.list_objects(
                bucket, prefix, None, marker, max_keys
            )
            parts.append(_element("Marker", marker or ""))
        parts.append(_element("IsTruncated", "true" if truncated else "false"))
        if encoding:
            parts.append(_element("EncodingType", encoding))
        for key in cast(list[FakeKey], keys):
            parts.append(
                "<Contents>"
                + _element("Key", key.safe_name(encoding))
                + _element("LastModified", key.last_modified_ISO8601)
                + _element("ETag", key.etag)
                + _element("Size", key.size)
                + _element("StorageClass", key.storage_class)
                + "</Contents>"
            )
        if following:
            name = "NextContinuationToken" if version == 2 else "NextMarker"
            value = following if version == 2 else self.backend._pagination_tokens[following]
            parts.append(_element(name, value))
        parts.append(f"</{tag}>")
        headers = {**self.response_headers, "Content-Type": "application/xml"}
        return 200, headers, "".join(parts)

    S3Response.list_objects = lambda self: respond(self, version=1)  # type: ignore[method-assign]
    S3Response.list_objects_v2 = lambda self: respond(self, version=2)  # type: ignore[method-assign]


INDEX = _SortedNames()


def key_name(prefix: str, number: int) -> str:
    return f"{prefix}{number:07d}.jpg"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.storage.moto_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", default="images/")
    parser.add_argument("--objects", type=int, required=True)
    parser.add_argument("--indexed-listing", action="store_true")
    args = parser.parse_args(argv)
    if args.indexed_listing:
        install_indexed_listing()
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(args.bucket, "us-east-1")
    for number in range(args.objects):
        backend.put_object(args.bucket, key_name(args.prefix, number), BODY)
    # Answers HTTP only now, so "up" means "filled".
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    print(f"moto: s3://{args.bucket}/{args.prefix} holds {args.objects} objects", flush=True)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The contract every artifact backend keeps: local disk, S3, GCS and Azure Blob.

Keys are relative POSIX paths (`exports/12/34.json`), checked the same way by every backend
so a key that works on a laptop works in a bucket. A write is all or nothing: bytes go to a
writer, and only `commit()` makes them visible under the key, so a crashed job never leaves
a half file behind a completed export. Writers stream: memory per write is one part or
block, never the whole artifact.
"""

from __future__ import annotations

import hashlib
import mimetypes
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath

#: Longest lifetime of a presigned URL (S3's and GCS's v4 limit: seven days).
MAX_PRESIGN_SECONDS = 7 * 24 * 3600


class ArtifactStorageError(Exception):
    """The store refused or could not be reached (credentials, bucket, network).

    The message names the backend, the bucket and the operation, never a credential.
    """


def key_parts(key: str) -> tuple[str, ...]:
    """The path segments of `key`; anything that could escape a root or a prefix is refused."""
    if not key or "\\" in key or "\x00" in key or key.startswith("/"):
        raise ValueError(f"invalid artifact key {key!r}")
    relative = PurePosixPath(key)
    if ".." in relative.parts or not relative.parts:
        raise ValueError(f"invalid artifact key {key!r}")
    return relative.parts


def normalized_prefix(prefix: str) -> str:
    """`prefix` as `a/b/` (or empty), checked like a key, so it is joined to keys verbatim."""
    stripped = prefix.strip("/")
    if not stripped:
        return ""
    return "/".join(key_parts(stripped)) + "/"


def check_expiry(expires_seconds: int) -> None:
    if not 1 <= expires_seconds <= MAX_PRESIGN_SECONDS:
        raise ValueError(f"expires_seconds must be between 1 and {MAX_PRESIGN_SECONDS}")


def content_type_of(key: str) -> str:
    """The media type stored with an object, so a presigned download is served as what it is."""
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def attachment_disposition(filename: str) -> str:
    """`Content-Disposition` for a download named `filename` (quotes and controls dropped)."""
    safe = "".join(ch for ch in filename if ch.isprintable() and ch not in '"\\')
    return f'attachment; filename="{safe}"'


class ArtifactWriter(ABC):
    """Receives an artifact's bytes in order; counts and hashes them on the way.

    End with `commit()`, or `abort()` (also after a `commit()` that raised); nothing is
    visible under the key before `commit()` returns.
    """

    def __init__(self) -> None:
        self.size = 0
        self._md5 = hashlib.md5(usedforsecurity=False)

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._md5.update(chunk)
        self._write(chunk)

    def write_all(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            self.write(chunk)

    @property
    def md5(self) -> str:
        return self._md5.hexdigest()

    @abstractmethod
    def _write(self, chunk: bytes) -> None: ...

    @abstractmethod
    def commit(self) -> None:
        """Publish the bytes under the key, replacing what was there."""

    @abstractmethod
    def abort(self) -> None:
        """Drop the bytes written so far (best effort: it never raises for a cleanup)."""


class ArtifactStorage(ABC):
    """One place artifacts live. Every method validates its key (`ValueError` if bad)."""

    @abstractmethod
    def writer(self, key: str) -> ArtifactWriter: ...

    @abstractmethod
    def read(self, key: str, *, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        """The artifact's bytes in chunks; FileNotFoundError (raised at once) if there is none."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the artifact; a missing one is not an error (deletes are retried)."""

    @abstractmethod
    def presigned_url(
        self, key: str, *, expires_seconds: int, filename: str | None = None
    ) -> str | None:
        """A URL that downloads the artifact without our credentials, or None if the
        backend cannot sign (local disk, or credentials without a signing key).

        `filename` makes the download an attachment of that name.
        """

    @abstractmethod
    def check(self) -> None:
        """Raise ArtifactStorageError unless the store is reachable with these credentials."""

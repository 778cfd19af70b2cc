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
from dataclasses import dataclass
from pathlib import PurePosixPath

#: Longest lifetime of a presigned URL (S3's and GCS's v4 limit: seven days).
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
#: Objects per listing page (S3's and Azure's largest page).
LIST_PAGE_SIZE = 1000


@dataclass(frozen=True)
class ListedObject:
    """One object a listing found: its key (relative to the storage's prefix) and size."""

    key: str
    size: int


def listable_key(key: str) -> bool:
    """Whether a key found in a bucket can be addressed through this contract (a key like
    `a//b` or `../x` exists in S3 but would be normalised or refused by `key_parts`)."""
    try:
        return "/".join(key_parts(key)) == key
    except ValueError:
        return False


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
    def list_pages(
        self,
        prefix: str = "",
        *,
        start_after: str = "",
        recursive: bool = True,
        page_size: int = LIST_PAGE_SIZE,
    ) -> Iterator[list[ListedObject]]:
        """The objects whose key starts with `prefix`, a page at a time, in key order
        (code-point order, which is the byte order S3, GCS and Azure list in).

        `start_after` skips every key up to and including it, so a caller that remembers
        the last key it handled resumes there without listing the rest again. Without
        `recursive`, only the objects directly under `prefix` (up to the next `/`) are
        listed. "Folder" placeholders (keys ending in `/`) and keys this contract cannot
        address (`listable_key`) are left out.
        """

    @abstractmethod
    def check(self) -> None:
        """Raise ArtifactStorageError unless the store is reachable with these credentials."""

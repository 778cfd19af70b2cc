"""The contract every artifact backend keeps (local disk now; S3, GCS and Azure later).

Keys are relative POSIX paths (`exports/12/34-1a2b.json`). A write is all or nothing:
bytes go to a writer, and only `commit()` makes them visible under the key, so a crashed
job never leaves a half file behind a completed export.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator


class ArtifactWriter(ABC):
    """Receives an artifact's bytes in order; counts and hashes them on the way."""

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
        """Drop the bytes written so far."""


class ArtifactStorage(ABC):
    @abstractmethod
    def writer(self, key: str) -> ArtifactWriter: ...

    @abstractmethod
    def read(self, key: str, *, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        """The artifact's bytes in chunks; FileNotFoundError if there is none."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the artifact; a missing one is not an error (deletes are retried)."""

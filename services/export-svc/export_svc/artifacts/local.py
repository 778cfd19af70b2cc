"""Artifacts as files under a root directory (the data dir on a laptop, a volume in a pod)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from export_svc.artifacts.base import ArtifactStorage, ArtifactWriter


class _LocalWriter(ArtifactWriter):
    def __init__(self, target: Path) -> None:
        super().__init__()
        self._target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        self._partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
        self._file: BinaryIO = self._partial.open("wb")

    def _write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def commit(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._partial, self._target)

    def abort(self) -> None:
        self._file.close()
        self._partial.unlink(missing_ok=True)


class LocalArtifactStorage(ArtifactStorage):
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        """The file of `key`; a key that would leave the root is refused."""
        relative = PurePosixPath(key)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"invalid artifact key {key!r}")
        return self.root.joinpath(*relative.parts)

    def writer(self, key: str) -> ArtifactWriter:
        return _LocalWriter(self.path(key))

    def read(self, key: str, *, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        handle = self.path(key).open("rb")

        def chunks() -> Iterator[bytes]:
            with handle:
                while chunk := handle.read(chunk_size):
                    yield chunk

        return chunks()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

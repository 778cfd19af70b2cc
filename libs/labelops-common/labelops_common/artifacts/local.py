"""Artifacts as files under a root directory (the data dir on a laptop, a volume in a pod)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from labelops_common.artifacts.base import (
    LIST_PAGE_SIZE,
    ArtifactStorage,
    ArtifactStorageError,
    ArtifactWriter,
    ListedObject,
    check_expiry,
    key_parts,
    listable_key,
)


class _LocalWriter(ArtifactWriter):
    """Writes a hidden partial file beside the target and renames it into place on commit."""

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
        return self.root.joinpath(*key_parts(key))

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

    def presigned_url(
        self, key: str, *, expires_seconds: int, filename: str | None = None
    ) -> str | None:
        """None: files on disk are only served through the API."""
        key_parts(key)
        check_expiry(expires_seconds)
        return None

    def list_pages(
        self,
        prefix: str = "",
        *,
        start_after: str = "",
        recursive: bool = True,
        page_size: int = LIST_PAGE_SIZE,
    ) -> Iterator[list[ListedObject]]:
        """Files under the root in key order, walked a directory at a time. Symbolic links
        and hidden partial files are skipped: nothing listed lies outside the root."""
        page: list[ListedObject] = []
        for key, size in self._walk("", prefix, start_after, recursive):
            page.append(ListedObject(key=key, size=size))
            if len(page) >= page_size:
                yield page
                page = []
        if page:
            yield page

    def _walk(
        self, directory: str, prefix: str, start_after: str, recursive: bool
    ) -> Iterator[tuple[str, int]]:
        try:
            entries = list(os.scandir(self.root / directory if directory else self.root))
        except (FileNotFoundError, NotADirectoryError):
            return
        # A directory `a` sorts as `a/` among its siblings (`a.txt` < `a/x` in key order).
        named = sorted(
            (entry.name + ("/" if entry.is_dir(follow_symlinks=False) else ""), entry)
            for entry in entries
        )
        for name, entry in named:
            key = directory + name
            if entry.is_symlink() or entry.name.endswith(".partial"):
                continue
            if name.endswith("/"):
                # Into the directories on the way to `prefix`, and below it when recursive.
                leads_to_prefix = prefix.startswith(key)
                if not (leads_to_prefix or (recursive and key.startswith(prefix))):
                    continue
                if start_after and key < start_after[: len(key)]:
                    continue
                yield from self._walk(key, prefix, start_after, recursive)
                continue
            if not key.startswith(prefix) or (start_after and key <= start_after):
                continue
            if listable_key(key):
                yield key, entry.stat(follow_symlinks=False).st_size

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ArtifactStorageError(
                f"local artifact storage: cannot create {self.root} ({error.strerror})"
            ) from None
        if not os.access(self.root, os.W_OK):
            raise ArtifactStorageError(f"local artifact storage: {self.root} is not writable")

"""Where import bodies and uploaded files live: keys in the shared artifact storage.

Uploaded files keep Label Studio's layout, key `upload/<project>/<8hex>-<name>`, and are
referenced from task data as `/data/upload/<project>/<8hex>-<name>`. Raw import bodies are
kept under `import-bodies/` until their import has run, so the worker pod that runs a
queued import reads what the API pod received. On the local backend (rooted at the
uploads dir) a key is the file's path under that root, exactly as before object stores.

Every write is all or nothing: bytes go to a writer that is committed only once the whole
body arrived within its limit, and aborted otherwise.
"""

from __future__ import annotations

import io
import logging
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import PurePosixPath
from typing import Any, BinaryIO

import anyio
from labelops_common.artifacts import (
    ArtifactStorage,
    ArtifactStorageError,
)
from labelops_common.http.errors import PayloadTooLarge

logger = logging.getLogger(__name__)

UPLOAD_DIR = "upload"
BODIES_DIR = "import-bodies"
#: URL prefix under which uploads are served (`/data/upload/...`).
URL_PREFIX = "/data/"
_CHUNK = 1024 * 1024
#: Bytes fetched per step when a stored file is parsed (the parsers' memory stays flat).
_READ_CHUNK = 64 * 1024
_NAME_MAX = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    """The base name only, reduced to a portable character set, never empty or hidden."""
    base = PurePosixPath(name.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip("._") or "file"
    stem, dot, suffix = cleaned.rpartition(".")
    if dot and len(cleaned) > _NAME_MAX:
        keep = max(_NAME_MAX - len(suffix) - 1, 1)
        return f"{stem[:keep]}.{suffix[:20]}"
    return cleaned[:_NAME_MAX]


def new_upload_path(project_id: int, filename: str) -> str:
    """The key of a new upload: `upload/<project>/<8hex>-<name>`."""
    return f"{UPLOAD_DIR}/{project_id}/{secrets.token_hex(4)}-{safe_filename(filename)}"


def new_body_path(extension: str) -> str:
    """The key of a new spooled import body: `import-bodies/<uuid><extension>`."""
    return f"{BODIES_DIR}/{uuid.uuid4().hex}{extension}"


def upload_url(relative: str) -> str:
    """How task data refers to an uploaded file."""
    return f"{URL_PREFIX}{relative}"


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The import is larger than {max_bytes} bytes.")


def store_stream(storage: ArtifactStorage, key: str, source: BinaryIO, *, max_bytes: int) -> int:
    """Copy `source` under `key` in chunks; PayloadTooLarge (and nothing kept) past `max_bytes`."""
    writer = storage.writer(key)
    try:
        while chunk := source.read(_CHUNK):
            if writer.size + len(chunk) > max_bytes:
                raise _too_large(max_bytes)
            writer.write(chunk)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    return writer.size


async def spool_stream(
    storage: ArtifactStorage, key: str, chunks: AsyncIterator[bytes], *, max_bytes: int
) -> int:
    """Store a request body as it arrives, so it is never held in memory whole.

    Chunks are handed to the writer about a MiB at a time in a worker thread: an object
    store's part upload must not stall the event loop.
    """
    writer = await anyio.to_thread.run_sync(storage.writer, key)
    pending = bytearray()
    try:
        async for chunk in chunks:
            if writer.size + len(pending) + len(chunk) > max_bytes:
                raise _too_large(max_bytes)
            pending += chunk
            if len(pending) >= _CHUNK:
                await anyio.to_thread.run_sync(writer.write, bytes(pending))
                pending.clear()
        if pending:
            await anyio.to_thread.run_sync(writer.write, bytes(pending))
        await anyio.to_thread.run_sync(writer.commit)
    except BaseException:
        await run_cleanup(writer.abort)
        raise
    return writer.size


async def run_cleanup(cleanup: Callable[..., None], *args: Any) -> None:
    """Run a cleanup in a worker thread, to the end even while the request is cancelled
    (a client that disconnects mid-upload must not leave stored bytes behind)."""
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(cleanup, *args)


def write_bytes(storage: ArtifactStorage, key: str, content: bytes) -> int:
    writer = storage.writer(key)
    try:
        writer.write(content)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    return len(content)


def remove(storage: ArtifactStorage, key: str) -> None:
    """Delete a stored file; a missing one or an invalid key is ignored, and a store that
    cannot be reached is logged (cleanup never turns a finished import into an error)."""
    try:
        storage.delete(key)
    except (ValueError, OSError):
        return
    except ArtifactStorageError as error:
        logger.warning("stored file not removed: %s", error, extra={"artifact_key": key})


def open_stored(storage: ArtifactStorage, key: str) -> io.BufferedReader:
    """A buffered binary stream over a stored file, for the streaming parsers.

    FileNotFoundError (at once) if there is none; ValueError for an invalid key.
    """
    chunks = storage.read(key, chunk_size=_READ_CHUNK)
    return io.BufferedReader(StoredFileReader(chunks), _READ_CHUNK)


class StoredFileReader(io.RawIOBase):
    """The chunks `ArtifactStorage.read` yields as a raw, read-only, non-seekable stream."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._current = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._current:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._current = memoryview(chunk)
        target = memoryview(buffer).cast("B")
        size = min(len(target), len(self._current))
        target[:size] = self._current[:size]
        self._current = self._current[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        super().close()

"""Where import bodies and uploaded files live on disk, confined to the uploads root.

Uploaded files keep Label Studio's layout, `upload/<project>/<8hex>-<name>` under the
root, and are referenced from task data as `/data/upload/<project>/<8hex>-<name>`. Raw
import bodies are spooled under `import-bodies/` until their import has run. Every path
handed in from outside is resolved and checked to stay under the root.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from labelops_common.http.errors import PayloadTooLarge

UPLOAD_DIR = "upload"
BODIES_DIR = "import-bodies"
#: URL prefix under which uploads are served (`/data/upload/...`).
URL_PREFIX = "/data/"
_CHUNK = 1024 * 1024
_NAME_MAX = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UnsafePath(ValueError):
    """A relative path that would leave the uploads root."""


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
    """`upload/<project>/<8hex>-<name>`, relative to the uploads root."""
    return f"{UPLOAD_DIR}/{project_id}/{secrets.token_hex(4)}-{safe_filename(filename)}"


def new_body_path(extension: str) -> str:
    return f"{BODIES_DIR}/{uuid.uuid4().hex}{extension}"


def upload_url(relative: str) -> str:
    """How task data refers to an uploaded file."""
    return f"{URL_PREFIX}{relative}"


def resolve(root: Path, relative: str) -> Path:
    """The absolute path of `relative` under `root`; UnsafePath if it would leave it."""
    if not relative or relative.startswith(("/", "\\")) or "\x00" in relative:
        raise UnsafePath(relative)
    root = root.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or path == root:
        raise UnsafePath(relative)
    return path


def store_stream(root: Path, relative: str, source: BinaryIO, *, max_bytes: int) -> int:
    """Copy `source` to `relative` in chunks; PayloadTooLarge (and nothing kept) past `max_bytes`."""
    path = resolve(root, relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with path.open("wb") as target:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"The import is larger than {max_bytes} bytes.")
                target.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return size


async def spool_stream(
    root: Path, relative: str, chunks: AsyncIterator[bytes], *, max_bytes: int
) -> int:
    """Write a request body to disk as it arrives, so it is never held in memory whole."""
    path = resolve(root, relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with path.open("wb") as target:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"The import is larger than {max_bytes} bytes.")
                target.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return size


def write_bytes(root: Path, relative: str, content: bytes) -> int:
    path = resolve(root, relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return len(content)


def move(root: Path, source: str, target: str) -> None:
    destination = resolve(root, target)
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(resolve(root, source)), str(destination))


def remove(root: Path, relative: str) -> None:
    """Delete a stored file; a missing file or an unsafe path is ignored."""
    with contextlib.suppress(UnsafePath, OSError):
        resolve(root, relative).unlink(missing_ok=True)

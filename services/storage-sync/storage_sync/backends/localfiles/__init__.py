"""Local files: a directory that must lie strictly under the configured document root
(`LABELOPS_STORAGE_SYNC_LOCAL_FILES_DOCUMENT_ROOT`). Nothing outside the root is listed,
read or served: the path is resolved (symbolic links followed) before it is checked, and
links met while listing are skipped. Objects are referenced in task data as Label
Studio's `/data/local-files/?d=<path relative to the root>`, served by this service."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from labelops_common.artifacts import LocalArtifactStorage
from labelops_common.artifacts.base import key_parts

from storage_sync.backends.base import (
    ArtifactBackend,
    ConnectContext,
    FieldSpec,
    StorageBackend,
    StorageConnectionError,
    StorageType,
)

LOCAL_FILES_PATH = "/data/local-files/"


def path_under_root(path: str, root: Path) -> Path:
    """`path` resolved, if it is an existing directory strictly under `root`; else
    StorageConnectionError naming the reason (on the `path` field)."""
    if not path:
        raise StorageConnectionError("This field is required.", field="path")
    candidate = Path(path)
    if not candidate.is_absolute():
        raise StorageConnectionError("Must be an absolute path.", field="path")
    resolved = candidate.resolve()
    real_root = root.resolve()
    if resolved == real_root or not resolved.is_relative_to(real_root):
        raise StorageConnectionError(
            f"Must be a subdirectory of the document root {real_root} "
            "(LABELOPS_STORAGE_SYNC_LOCAL_FILES_DOCUMENT_ROOT).",
            field="path",
        )
    if not resolved.is_dir():
        raise StorageConnectionError(f"{resolved} is not an existing directory.", field="path")
    return resolved


class LocalFilesBackend(ArtifactBackend):
    """Walking a directory is cheap next to importing what it holds, and people add files
    with any name: every sync walks it all, and keys already imported are skipped."""

    bucket_field = "path"
    resumable_listing = False

    def __init__(self, directory: Path, *, document_root: Path) -> None:
        super().__init__(LocalArtifactStorage(directory), scheme="file", bucket=str(directory))
        self.directory = directory
        self.document_root = document_root
        self.relative = directory.relative_to(document_root).as_posix()

    def presign(self, key: str, *, ttl_seconds: int) -> str | None:
        return None

    def validate(self) -> None:
        if not self.directory.is_dir():
            raise StorageConnectionError(f"{self.directory} does not exist.", field="path")

    def uri(self, key: str) -> str:
        return f"{LOCAL_FILES_PATH}?d={quote(self.relative + '/' + key, safe='/')}"

    def key_of(self, uri: str) -> str | None:
        relative = local_files_reference(uri)
        if relative is None or not relative.startswith(self.relative + "/"):
            return None
        key = relative[len(self.relative) + 1 :]
        try:
            key_parts(key)
        except ValueError:
            return None
        return key

    def file_of(self, key: str) -> Path:
        """The file of `key`, refused (ValueError) if it would leave the directory."""
        path = self.directory.joinpath(*key_parts(key)).resolve()
        if not path.is_relative_to(self.directory):
            raise ValueError(f"invalid key {key!r}")
        return path


def local_files_reference(uri: str) -> str | None:
    """The `d` of a `/data/local-files/?d=...` reference (absolute URLs too), or None."""
    parts = urlsplit(uri)
    if parts.path.rstrip("/") != LOCAL_FILES_PATH.rstrip("/"):
        return None
    values = parse_qs(parts.query).get("d")
    return values[0] if values else None


class LocalFilesStorageType(StorageType):
    name = "localfiles"
    title = "Local files"
    fields = (FieldSpec("path", required=True),)

    @classmethod
    def bucket_of(cls, settings: Mapping[str, Any]) -> str:
        return str(settings.get("path") or "")

    @classmethod
    def prefix_of(cls, settings: Mapping[str, Any]) -> str:
        """The directory is the storage: keys are relative to it."""
        return ""

    @classmethod
    def connect(
        cls, settings: Mapping[str, Any], secrets: Mapping[str, str], context: ConnectContext
    ) -> StorageBackend:
        if context.document_root is None:
            raise StorageConnectionError(
                "Local files are not enabled: set LABELOPS_STORAGE_SYNC_LOCAL_FILES_DOCUMENT_ROOT.",
                field="path",
            )
        directory = path_under_root(str(settings.get("path") or ""), context.document_root)
        return LocalFilesBackend(directory, document_root=context.document_root.resolve())

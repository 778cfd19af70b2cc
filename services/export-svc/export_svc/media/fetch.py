"""Fetching a task's media for an export archive, within one size cap per export.

A task refers to its media the ways Label Studio's do:

- an upload, `/data/upload/<project>/<file>` (or `upload/...`, or the storage proxy
  `/storage-data/uploaded/?filepath=upload/...`): read from the artifact storage where
  task-svc keeps uploads, and only when `<project>` is the exported project, so task data
  cannot pull another project's files into an archive;
- a local file, `/data/local-files/?d=<path>`: read under `LABELOPS_EXPORT_SVC_LOCAL_FILES_ROOT`
  (Label Studio's `LOCAL_FILES_DOCUMENT_ROOT`), never outside it; unset, local files are
  not read;
- a web URL: fetched through the outbound address policy (`labelops_common.outbound`),
  redirects included;
- a bucket URI (`s3://`, `gs://`, `azure-blob://`): handed to a `CloudResolver` that turns it
  into a URL to fetch: storage-sync's `ResolveUris` (`export_svc.storages`), which owns the
  connections and their credentials and answers a presigned URL, fetched as a web URL.

Each file is copied into a temporary file (memory up to 1 MiB, then disk) and counted
against the export's cap; past it the export stops with `MediaTooLarge`. One file that
cannot be fetched is `MediaUnavailable`: the writers leave that file out, as Label
Studio's converter does, and carry on.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import parse_qs, unquote, urlparse

import httpx
from labelops_common.artifacts import ArtifactStorage
from labelops_common.outbound import OutboundPolicy, OutboundRefused

logger = logging.getLogger(__name__)

#: Bytes read per step from any source.
CHUNK = 256 * 1024
#: Bytes of one file kept in memory before its copy moves to disk.
IN_MEMORY = 1024 * 1024
CLOUD_SCHEMES = ("s3", "gs", "azure-blob")

#: Turns a bucket URI into a URL to fetch (a presigned one), or raises MediaUnavailable.
CloudResolver = Callable[[int, str], str]


class MediaUnavailable(Exception):
    """One file could not be fetched; `reason` says why (no secret, no stack)."""

    def __init__(self, reference: str, reason: str) -> None:
        super().__init__(f"{reason}: {reference}")
        self.reference = reference
        self.reason = reason


class MediaTooLarge(Exception):
    """The export's media passed its cap; the export stops rather than leave files out."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            f"The media of this export is larger than {max_bytes} bytes "
            "(LABELOPS_EXPORT_SVC_MEDIA_MAX_BYTES): export without media, "
            "fewer tasks, or ask an operator to raise the cap."
        )
        self.max_bytes = max_bytes


@dataclass
class FetchedMedia:
    """A fetched file: a temporary copy, rewound, closed with the context."""

    file: IO[bytes]
    size: int

    def chunks(self) -> Iterator[bytes]:
        self.file.seek(0)
        while chunk := self.file.read(CHUNK):
            yield chunk

    def __enter__(self) -> FetchedMedia:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.file.close()


@dataclass(frozen=True)
class MediaAccess:
    """Where media may come from, built once per process; `fetcher()` makes one per export."""

    uploads: ArtifactStorage
    policy: OutboundPolicy
    max_bytes: int
    local_files_root: Path | None = None
    timeout_seconds: float = 30.0
    cloud: CloudResolver | None = None

    def fetcher(self, project_id: int) -> MediaFetcher:
        return MediaFetcher(self, project_id)


class MediaFetcher:
    """Fetches one export's media, counting every byte against the export's cap."""

    def __init__(self, access: MediaAccess, project_id: int) -> None:
        self._access = access
        self._project_id = project_id
        self._client: httpx.Client | None = None
        self.fetched_bytes = 0
        self.unavailable = 0

    def fetch(self, reference: str) -> FetchedMedia:
        """A copy of the file `reference` names; MediaUnavailable or MediaTooLarge if not."""
        copy: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115
        try:
            size = 0
            for chunk in self._chunks(str(reference)):
                size += len(chunk)
                if self.fetched_bytes + size > self._access.max_bytes:
                    raise MediaTooLarge(self._access.max_bytes)
                copy.write(chunk)
            self.fetched_bytes += size
            copy.seek(0)
            return FetchedMedia(file=copy, size=size)
        except MediaUnavailable as error:
            copy.close()
            self.unavailable += 1
            logger.warning("export media left out: %s", error.reason)
            raise
        except BaseException:
            copy.close()
            raise

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- sources ---------------------------------------------------------------------------

    def _chunks(self, reference: str) -> Iterator[bytes]:
        parsed = urlparse(reference)
        scheme = parsed.scheme.lower()
        if scheme in ("http", "https"):
            return self._web(reference)
        if scheme in CLOUD_SCHEMES:
            return self._cloud(reference)
        if scheme:
            raise MediaUnavailable(reference, f"the scheme {scheme!r} is not fetched")
        path = parsed.path
        if path.startswith("/storage-data/uploaded") or path.startswith("storage-data/uploaded"):
            path = "/data/" + (parse_qs(parsed.query).get("filepath") or [""])[0].lstrip("/")
        if path.startswith("upload/") or path.startswith("/upload/"):
            path = "/data/" + path.lstrip("/")
        if path.startswith("/data/upload/"):
            return self._upload(reference, unquote(path.removeprefix("/data/")))
        if path.startswith("/data/") and "d" in parse_qs(parsed.query):
            return self._local_file(reference, parse_qs(parsed.query)["d"][0])
        raise MediaUnavailable(reference, "not a URL, an upload or a local file")

    def _upload(self, reference: str, key: str) -> Iterator[bytes]:
        parts = key.split("/")
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2]:
            raise MediaUnavailable(reference, "not an upload path (upload/<project>/<file>)")
        if int(parts[1]) != self._project_id:
            raise MediaUnavailable(reference, "the upload belongs to another project")
        try:
            if not self._access.uploads.exists(key):
                raise MediaUnavailable(reference, "no such upload")
            return self._access.uploads.read(key)
        except ValueError as error:  # the storage refused the key (.., backslash, NUL)
            raise MediaUnavailable(reference, str(error)) from None

    def _local_file(self, reference: str, relative: str) -> Iterator[bytes]:
        root = self._access.local_files_root
        if root is None:
            raise MediaUnavailable(
                reference,
                "local files are not read (LABELOPS_EXPORT_SVC_LOCAL_FILES_ROOT is unset)",
            )
        root = root.resolve()
        path = (root / relative.lstrip("/")).resolve()
        if not path.is_relative_to(root):
            raise MediaUnavailable(reference, "the path leaves the local files root")
        if not path.is_file():
            raise MediaUnavailable(reference, "no such local file")
        return _file_chunks(path)

    def _cloud(self, reference: str) -> Iterator[bytes]:
        if self._access.cloud is None:
            raise MediaUnavailable(
                reference, "bucket URIs are fetched through storage-sync, which is not configured"
            )
        return self._web(self._access.cloud(self._project_id, reference), shown=reference)

    def _web(self, url: str, *, shown: str | None = None) -> Iterator[bytes]:
        """The response body, read while the caller copies it (the caller enforces the cap)."""
        shown = shown or url
        if self._client is None:
            self._client = self._access.policy.client(
                timeout=self._access.timeout_seconds, follow_redirects=True, max_redirects=5
            )
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise MediaUnavailable(shown, f"the server answered {response.status_code}")
                yield from response.iter_bytes(CHUNK)
        except OutboundRefused as error:
            raise MediaUnavailable(shown, error.reason) from None
        except httpx.HTTPError as error:
            raise MediaUnavailable(shown, f"the download failed ({type(error).__name__})") from None

    def __enter__(self) -> MediaFetcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk

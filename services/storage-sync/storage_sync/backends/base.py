"""The contract every storage type keeps, and the one shape of its connection settings.

A storage type is a sub-package (`s3`, `gcs`, `azure`, `redis`, `localfiles`) holding a
`StorageType`: its Label Studio name and title, its fields (plain ones and credentials),
and how to connect. Connecting gives a `StorageBackend`: list a prefix a page at a time
(resuming after a key), read, write and delete one object, presign one, validate the
connection, and turn keys into the URIs task data holds (`s3://bucket/key`) and back.
A large object (an export snapshot) is written through `writer(key)`, a chunk at a time.

Errors a user can fix (bad credentials, a missing bucket, an endpoint the outbound policy
refuses) are `StorageConnectionError`, whose message names the reason and never a
credential; the API answers them 400 naming the field.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from labelops_common.artifacts import ArtifactStorage, ArtifactStorageError, ArtifactWriter
from labelops_common.artifacts.base import LIST_PAGE_SIZE, ListedObject, key_parts
from labelops_common.outbound import OutboundPolicy

__all__ = [
    "ArtifactBackend",
    "ConnectContext",
    "FieldSpec",
    "ListedObject",
    "StorageBackend",
    "StorageConnectionError",
    "StorageType",
]


class StorageConnectionError(Exception):
    """The storage cannot be used as configured; `field` names the setting to fix."""

    def __init__(self, reason: str, *, field: str = "non_field_errors") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


@dataclass(frozen=True)
class FieldSpec:
    """One setting of a storage type: Label Studio's name, its JSON type and default.

    A `secret` is write-only: stored sealed, answered masked, never logged.
    """

    name: str
    kind: type = str
    default: Any = None
    secret: bool = False
    required: bool = False


@dataclass(frozen=True)
class ConnectContext:
    """What connecting needs beyond a storage's own fields: the outbound address policy
    (every endpoint and host passes it) and the local-files document root."""

    policy: OutboundPolicy
    document_root: Path | None = None


class StorageBackend(ABC):
    """One connected storage: a bucket (container, directory, Redis database) and its keys.

    Keys are full object names in the bucket; the storage's Label Studio `prefix` is a
    listing argument, not a namespace, so URIs in task data name real objects.
    """

    #: Listing can resume after a key at no cost (S3 `StartAfter`, GCS `startOffset`,
    #: local directories walked in order); otherwise a resumed listing reads from the start.
    resumable_listing: ClassVar[bool] = True

    @abstractmethod
    def list_pages(
        self,
        prefix: str,
        *,
        start_after: str = "",
        recursive: bool = True,
        page_size: int = LIST_PAGE_SIZE,
    ) -> Iterator[list[ListedObject]]:
        """Objects under `prefix` a page at a time, in key order where the backend lists in
        order, after `start_after` (see `ArtifactStorage.list_pages`)."""

    @abstractmethod
    def read(self, key: str) -> bytes:
        """The object's bytes; FileNotFoundError if there is none."""

    def stream(self, key: str) -> Iterator[bytes]:
        """The object's bytes in chunks (FileNotFoundError at once if there is none), for
        proxying media without holding a whole video in memory."""
        return iter([self.read(key)])

    @abstractmethod
    def write(self, key: str, data: bytes) -> None: ...

    def writer(self, key: str) -> ArtifactWriter:
        """A writer publishing `key` whole on `commit()`; errors are StorageConnectionError.

        This default gathers the bytes and writes them once (a Redis value is one string
        anyway); the object stores stream them (`ArtifactBackend`)."""
        return _GatheringWriter(self, key)

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""

    @abstractmethod
    def presign(self, key: str, *, ttl_seconds: int) -> str | None:
        """A URL that reads the object without credentials, or None if this storage cannot
        sign (its objects are then served through the API)."""

    @abstractmethod
    def validate(self) -> None:
        """Raise StorageConnectionError unless the storage answers with these credentials."""

    @abstractmethod
    def uri(self, key: str) -> str:
        """The reference task data holds for `key` (`s3://bucket/key`, a local-files URL)."""

    @abstractmethod
    def key_of(self, uri: str) -> str | None:
        """The key `uri` names if it points into this storage, else None."""


class ArtifactBackend(StorageBackend):
    """A storage type over one of `labelops_common.artifacts`' clients (S3, GCS, Azure,
    local disk): the platform keeps one client wrapper per cloud, used by the artifact
    store and by storage sync alike."""

    def __init__(self, artifacts: ArtifactStorage, *, scheme: str, bucket: str) -> None:
        self.artifacts = artifacts
        self.scheme = scheme
        self.bucket = bucket

    def list_pages(
        self,
        prefix: str,
        *,
        start_after: str = "",
        recursive: bool = True,
        page_size: int = LIST_PAGE_SIZE,
    ) -> Iterator[list[ListedObject]]:
        try:
            yield from self.artifacts.list_pages(
                prefix, start_after=start_after, recursive=recursive, page_size=page_size
            )
        except ArtifactStorageError as error:
            raise StorageConnectionError(str(error)) from None

    def read(self, key: str) -> bytes:
        try:
            return b"".join(self.artifacts.read(key))
        except ArtifactStorageError as error:
            raise StorageConnectionError(str(error)) from None

    def stream(self, key: str) -> Iterator[bytes]:
        try:
            chunks = self.artifacts.read(key)
        except ArtifactStorageError as error:
            raise StorageConnectionError(str(error)) from None

        def guarded() -> Iterator[bytes]:
            try:
                yield from chunks
            except ArtifactStorageError as error:
                raise StorageConnectionError(str(error)) from None

        return guarded()

    def write(self, key: str, data: bytes) -> None:
        writer = self.artifacts.writer(key)
        try:
            writer.write(data)
            writer.commit()
        except ArtifactStorageError as error:
            writer.abort()
            raise StorageConnectionError(str(error)) from None

    def writer(self, key: str) -> ArtifactWriter:
        """The client wrapper's own writer (multipart upload, blocks, resumable upload, a
        partial file): memory per write is one part, whatever the object's size."""
        try:
            return _GuardedWriter(self.artifacts.writer(key))
        except ArtifactStorageError as error:
            raise StorageConnectionError(str(error)) from None

    def delete(self, key: str) -> None:
        try:
            self.artifacts.delete(key)
        except ArtifactStorageError as error:
            raise StorageConnectionError(str(error)) from None

    def presign(self, key: str, *, ttl_seconds: int) -> str | None:
        try:
            return self.artifacts.presigned_url(key, expires_seconds=ttl_seconds)
        except ArtifactStorageError as error:
            raise StorageConnectionError(str(error)) from None

    def validate(self) -> None:
        try:
            self.artifacts.check()
        except ArtifactStorageError as error:
            raise StorageConnectionError(str(error), field=self.bucket_field) from None

    #: The field a failed connection check is reported on.
    bucket_field: ClassVar[str] = "bucket"

    def uri(self, key: str) -> str:
        return f"{self.scheme}://{self.bucket}/{key}"

    def key_of(self, uri: str) -> str | None:
        head = f"{self.scheme}://{self.bucket}/"
        if not uri.startswith(head):
            return None
        key = uri[len(head) :]
        try:
            key_parts(key)
        except ValueError:
            return None
        return key


class StorageType(ABC):
    """A storage type: what Label Studio calls it, its fields, how to connect."""

    #: Label Studio's name (`/api/storages/<name>/`) and the title its types list shows.
    name: ClassVar[str]
    title: ClassVar[str]
    #: The URI scheme task data uses for its objects (None: local-files URLs).
    scheme: ClassVar[str | None] = None
    fields: ClassVar[tuple[FieldSpec, ...]]

    @classmethod
    def secret_names(cls) -> tuple[str, ...]:
        return tuple(spec.name for spec in cls.fields if spec.secret)

    @classmethod
    def plain_names(cls) -> tuple[str, ...]:
        return tuple(spec.name for spec in cls.fields if not spec.secret)

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> dict[str, list[str]]:
        """Field errors of the settings alone (no network): required ones, formats."""
        return {
            spec.name: ["This field is required."]
            for spec in cls.fields
            if spec.required and not settings.get(spec.name)
        }

    @classmethod
    @abstractmethod
    def connect(
        cls, settings: Mapping[str, Any], secrets: Mapping[str, str], context: ConnectContext
    ) -> StorageBackend:
        """The backend these settings describe; StorageConnectionError if they cannot work
        (an endpoint the outbound policy refuses, a credential that does not parse)."""

    @classmethod
    def bucket_of(cls, settings: Mapping[str, Any]) -> str:
        """What `<scheme>://<bucket>/` names in URIs (used to match URIs to storages)."""
        return str(settings.get("bucket") or "")

    @classmethod
    def prefix_of(cls, settings: Mapping[str, Any]) -> str:
        """The key prefix a sync lists and an export writes under (`a/b`, or empty)."""
        return str(settings.get("prefix") or "").strip("/")


class _GatheringWriter(ArtifactWriter):
    def __init__(self, backend: StorageBackend, key: str) -> None:
        super().__init__()
        self._backend = backend
        self._key = key
        self._parts: list[bytes] = []

    def _write(self, chunk: bytes) -> None:
        self._parts.append(chunk)

    def commit(self) -> None:
        self._backend.write(self._key, b"".join(self._parts))
        self._parts.clear()

    def abort(self) -> None:
        self._parts.clear()


class _GuardedWriter(ArtifactWriter):
    """A client wrapper's writer whose failures read as StorageConnectionError."""

    def __init__(self, inner: ArtifactWriter) -> None:
        super().__init__()
        self._inner = inner

    def _write(self, chunk: bytes) -> None:
        try:
            self._inner.write(chunk)
        except ArtifactStorageError as error:
            raise StorageConnectionError(str(error)) from None

    def commit(self) -> None:
        try:
            self._inner.commit()
        except ArtifactStorageError as error:
            raise StorageConnectionError(str(error)) from None

    def abort(self) -> None:
        self._inner.abort()

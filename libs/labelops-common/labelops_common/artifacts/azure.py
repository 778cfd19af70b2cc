"""Artifacts in an Azure Blob Storage container.

A write stages one block (8 MiB by default) at a time and `commit()` commits the block list,
the moment the blob appears; an artifact that fits in one block is a single upload on
commit. Staged blocks that are never committed are invisible and Azure drops them after a
week, so `abort()` has nothing to send. Two writers of the same key at once would discard
each other's staged blocks; export jobs hold a lease on their row, so they never do.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.storage.blob import (
    BlobBlock,
    BlobClient,
    BlobPrefix,
    BlobSasPermissions,
    BlobServiceClient,
    ContainerClient,
    ContentSettings,
    generate_blob_sas,
)

from labelops_common.artifacts.base import (
    LIST_PAGE_SIZE,
    ArtifactStorage,
    ArtifactStorageError,
    ArtifactWriter,
    ListedObject,
    attachment_disposition,
    check_expiry,
    content_type_of,
    key_parts,
    listable_key,
    normalized_prefix,
)

DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024
#: Bytes per GET while reading (the SDK's first GET would otherwise take 32 MiB at once).
READ_CHUNK_BYTES = 4 * 1024 * 1024
#: A SAS starts this far in the past, so a clock a little ahead of Azure's still accepts it.
SAS_CLOCK_SKEW = timedelta(minutes=5)


class AzureArtifactStorage(ArtifactStorage):
    """Keys live under `prefix` in container `bucket` of `service`'s account."""

    def __init__(
        self,
        service: BlobServiceClient,
        *,
        bucket: str,
        prefix: str = "",
        block_size: int = DEFAULT_BLOCK_SIZE,
    ) -> None:
        if block_size <= 0:
            raise ValueError("block_size must be positive")
        self.service = service
        self.container_name = bucket
        self.container: ContainerClient = service.get_container_client(bucket)
        self.prefix = normalized_prefix(prefix)
        self.block_size = block_size

    @classmethod
    def from_environment(cls, *, bucket: str, prefix: str = "") -> AzureArtifactStorage:
        """From `AZURE_STORAGE_CONNECTION_STRING` (shared key or SAS)."""
        connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING", "")
        if not connection_string:
            raise ArtifactStorageError(
                f"azure container {bucket!r}: AZURE_STORAGE_CONNECTION_STRING is not set "
                "(a connection string with an account key or a SAS is required)"
            )
        return cls(connection_service(connection_string), bucket=bucket, prefix=prefix)

    def blob_name(self, key: str) -> str:
        return self.prefix + "/".join(key_parts(key))

    def blob(self, key: str) -> BlobClient:
        return self.container.get_blob_client(self.blob_name(key))

    def failure(self, operation: str, error: Exception) -> ArtifactStorageError:
        """The error as ArtifactStorageError, naming Azure's error code only."""
        detail = type(error).__name__
        if isinstance(error, HttpResponseError):
            detail = f"{getattr(error, 'error_code', None) or type(error).__name__}, HTTP {error.status_code}"
        return ArtifactStorageError(
            f"azure container {self.container_name!r}: {operation} failed ({detail})"
        )

    def writer(self, key: str) -> ArtifactWriter:
        return _AzureWriter(self, self.blob(key), content_type_of(key))

    def read(self, key: str, *, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        try:
            download = self.blob(key).download_blob(max_concurrency=1)
        except ResourceNotFoundError as error:
            if getattr(error, "error_code", None) == "BlobNotFound":
                raise FileNotFoundError(key) from None
            raise self.failure("read", error) from None
        except AzureError as error:
            raise self.failure("read", error) from None

        def chunks() -> Iterator[bytes]:
            try:
                for piece in download.chunks():
                    for start in range(0, len(piece), chunk_size):
                        yield piece[start : start + chunk_size]
            except AzureError as error:
                raise self.failure("read", error) from None

        return chunks()

    def exists(self, key: str) -> bool:
        try:
            return bool(self.blob(key).exists())
        except AzureError as error:
            raise self.failure("exists", error) from None

    def delete(self, key: str) -> None:
        try:
            self.blob(key).delete_blob(delete_snapshots="include")
        except ResourceNotFoundError as error:
            if getattr(error, "error_code", None) == "BlobNotFound":
                return
            raise self.failure("delete", error) from None
        except AzureError as error:
            raise self.failure("delete", error) from None

    def presigned_url(
        self, key: str, *, expires_seconds: int, filename: str | None = None
    ) -> str | None:
        """A read-only blob SAS, when the account key is known (else None)."""
        check_expiry(expires_seconds)
        blob = self.blob(key)
        account_key = getattr(self.service.credential, "account_key", None)
        if not account_key:
            return None
        now = datetime.now(UTC)
        token = generate_blob_sas(
            account_name=self.service.account_name or "",
            container_name=self.container_name,
            blob_name=blob.blob_name,
            account_key=account_key,
            permission=BlobSasPermissions(read=True),
            start=now - SAS_CLOCK_SKEW,
            expiry=now + timedelta(seconds=expires_seconds),
            content_disposition=attachment_disposition(filename) if filename else None,
        )
        return f"{blob.url}?{token}"

    def list_pages(
        self,
        prefix: str = "",
        *,
        start_after: str = "",
        recursive: bool = True,
        page_size: int = LIST_PAGE_SIZE,
    ) -> Iterator[list[ListedObject]]:
        """`List Blobs` pages. Azure has no "start after" parameter (its markers are opaque),
        so a resumed listing reads from the start and drops what precedes `start_after`."""
        start = self.prefix + start_after if start_after else ""
        try:
            if recursive:
                found: Any = self.container.list_blobs(
                    name_starts_with=self.prefix + prefix, results_per_page=page_size
                )
            else:
                found = self.container.walk_blobs(
                    name_starts_with=self.prefix + prefix, delimiter="/", results_per_page=page_size
                )
            for items in found.by_page():
                page = []
                for blob in items:
                    name = getattr(blob, "name", "")
                    if isinstance(blob, BlobPrefix) or (start and name <= start):
                        continue
                    key = name[len(self.prefix) :]
                    if key.endswith("/") or not listable_key(key):
                        continue
                    page.append(ListedObject(key=key, size=int(getattr(blob, "size", 0) or 0)))
                if page:
                    yield page
        except AzureError as error:
            raise self.failure("list", error) from None

    def check(self) -> None:
        try:
            self.container.get_container_properties()
        except AzureError as error:
            raise self.failure("check", error) from None


def account_service(
    *,
    account_name: str,
    account_key: str | None = None,
    sas_token: str | None = None,
    endpoint: str | None = None,
) -> BlobServiceClient:
    """A client of `account_name` with its key or a SAS token; `endpoint` overrides the
    public `https://<account>.blob.core.windows.net` (sovereign clouds, Azurite)."""
    url = endpoint or f"https://{account_name}.blob.core.windows.net"
    credential: Any = (
        {"account_name": account_name, "account_key": account_key} if account_key else sas_token
    )
    try:
        return BlobServiceClient(
            url,
            credential=credential,
            max_single_get_size=READ_CHUNK_BYTES,
            max_chunk_get_size=READ_CHUNK_BYTES,
        )
    except (ValueError, AzureError) as error:
        raise ArtifactStorageError(
            f"azure account {account_name!r}: the credentials are not usable ({type(error).__name__})"
        ) from None


def connection_service(connection_string: str) -> BlobServiceClient:
    """A client whose reads stream in bounded GETs."""
    try:
        return BlobServiceClient.from_connection_string(
            connection_string,
            max_single_get_size=READ_CHUNK_BYTES,
            max_chunk_get_size=READ_CHUNK_BYTES,
        )
    except (ValueError, AzureError) as error:
        raise ArtifactStorageError(
            f"azure: the connection string is not usable ({type(error).__name__})"
        ) from None


class _AzureWriter(ArtifactWriter):
    def __init__(self, storage: AzureArtifactStorage, blob: BlobClient, content_type: str) -> None:
        super().__init__()
        self._storage = storage
        self._blob = blob
        self._content = ContentSettings(content_type=content_type)
        self._buffer = bytearray()
        # Block ids must have one length within a blob: a per-writer token and a counter.
        self._token = uuid.uuid4().hex
        self._blocks: list[BlobBlock] = []

    def _write(self, chunk: bytes) -> None:
        self._buffer += chunk
        while len(self._buffer) >= self._storage.block_size:
            block = bytes(self._buffer[: self._storage.block_size])
            del self._buffer[: self._storage.block_size]
            self._stage(block)

    def _stage(self, data: bytes) -> None:
        raw_id = f"{self._token}-{len(self._blocks):06d}".encode()
        block_id = base64.b64encode(raw_id).decode()
        try:
            self._blob.stage_block(block_id, data, length=len(data))
        except AzureError as error:
            raise self._storage.failure("write", error) from None
        self._blocks.append(BlobBlock(block_id=block_id))

    def commit(self) -> None:
        try:
            if not self._blocks:
                self._blob.upload_blob(
                    bytes(self._buffer), overwrite=True, content_settings=self._content
                )
            else:
                if self._buffer:
                    self._stage(bytes(self._buffer))
                self._blob.commit_block_list(self._blocks, content_settings=self._content)
        except AzureError as error:
            raise self._storage.failure("commit", error) from None
        finally:
            self._buffer.clear()

    def abort(self) -> None:
        self._buffer.clear()
        self._blocks.clear()

"""Artifacts in a Google Cloud Storage bucket.

A write is one resumable upload sent in chunks (8 MiB by default, a multiple of 256 KiB as
GCS requires); GCS creates the object only when the last chunk finalizes the upload, which
`commit()` does, so nothing is visible before. An artifact smaller than one chunk is a
single upload on commit. `abort()` cancels the upload session; a session nobody finalizes
expires on its own after a week, still invisible.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import google.auth.credentials
import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

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

logger = logging.getLogger(__name__)

#: Resumable chunks must be multiples of 256 KiB.
CHUNK_QUANTUM = 256 * 1024
DEFAULT_CHUNK_SIZE = 32 * CHUNK_QUANTUM
UPLOAD_TIMEOUT = 120.0
UPLOAD_ATTEMPTS = 5
_TRANSIENT_STATUSES = {408, 429, 500, 502, 503, 504}
_ERRORS = (
    api_exceptions.GoogleAPIError,
    auth_exceptions.GoogleAuthError,
    requests.RequestException,
)


class GCSArtifactStorage(ArtifactStorage):
    """Keys live under `prefix` in `bucket`.

    Presigned URLs are V4 signatures made with `signing_credentials` (default: the client's),
    which must hold a private key (a service-account key file); otherwise `presigned_url`
    answers None and downloads go through the API.
    """

    def __init__(
        self,
        client: storage.Client,
        *,
        bucket: str,
        prefix: str = "",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        signing_credentials: google.auth.credentials.Credentials | None = None,
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_QUANTUM:
            raise ValueError(f"chunk_size must be a positive multiple of {CHUNK_QUANTUM}")
        self.client = client
        self.bucket_name = bucket
        self.bucket = client.bucket(bucket)
        self.prefix = normalized_prefix(prefix)
        self.chunk_size = chunk_size
        self.signing_credentials = signing_credentials

    @classmethod
    def from_environment(cls, *, bucket: str, prefix: str = "") -> GCSArtifactStorage:
        """Application default credentials (`GOOGLE_APPLICATION_CREDENTIALS` or Workload
        Identity), project `GOOGLE_CLOUD_PROJECT`; `STORAGE_EMULATOR_HOST` for an emulator."""
        try:
            client = storage.Client(project=os.environ.get("GOOGLE_CLOUD_PROJECT") or None)
        except (*_ERRORS, OSError, ValueError) as error:
            raise ArtifactStorageError(
                f"gcs bucket {bucket!r}: cannot create a client ({type(error).__name__})"
            ) from None
        return cls(client, bucket=bucket, prefix=prefix)

    @classmethod
    def connect(
        cls,
        *,
        bucket: str,
        prefix: str = "",
        credentials_info: dict[str, Any] | None = None,
        project_id: str | None = None,
    ) -> GCSArtifactStorage:
        """A client from a service-account key (`credentials_info`, which also signs URLs),
        or application default credentials when none is given.

        Against an emulator (`STORAGE_EMULATOR_HOST`) requests go unauthenticated, as
        emulators expect, and the key only signs URLs.
        """
        try:
            credentials = None
            if credentials_info:
                from google.oauth2 import service_account

                credentials = service_account.Credentials.from_service_account_info(
                    credentials_info
                )
            client_credentials: google.auth.credentials.Credentials | None = credentials
            if os.environ.get("STORAGE_EMULATOR_HOST"):
                client_credentials = google.auth.credentials.AnonymousCredentials()
            client = storage.Client(
                project=project_id
                or (credentials_info or {}).get("project_id")
                or os.environ.get("GOOGLE_CLOUD_PROJECT")
                or "labelops",
                credentials=client_credentials,
            )
        except (*_ERRORS, OSError, ValueError, KeyError) as error:
            raise ArtifactStorageError(
                f"gcs bucket {bucket!r}: cannot create a client ({type(error).__name__})"
            ) from None
        return cls(client, bucket=bucket, prefix=prefix, signing_credentials=credentials)

    def object_name(self, key: str) -> str:
        return self.prefix + "/".join(key_parts(key))

    def failure(self, operation: str, error: Exception) -> ArtifactStorageError:
        """The error as ArtifactStorageError, naming its kind and HTTP status only."""
        status = getattr(error, "code", None)
        detail = type(error).__name__ + (f", HTTP {status}" if isinstance(status, int) else "")
        return ArtifactStorageError(
            f"gcs bucket {self.bucket_name!r}: {operation} failed ({detail})"
        )

    def writer(self, key: str) -> ArtifactWriter:
        name = self.object_name(key)
        return _GCSWriter(self, self.bucket.blob(name), content_type_of(key))

    def read(self, key: str, *, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        try:
            blob = self.bucket.get_blob(self.object_name(key))
        except _ERRORS as error:
            raise self.failure("read", error) from None
        if blob is None:
            raise FileNotFoundError(key)
        # `get_blob` pinned the generation: a concurrent overwrite cannot mix two versions.
        # One ranged GET per `self.chunk_size` bytes, handed out `chunk_size` at a time.
        reader = blob.open("rb", chunk_size=max(chunk_size, self.chunk_size))

        def chunks() -> Iterator[bytes]:
            try:
                with reader:
                    while chunk := reader.read(chunk_size):
                        yield chunk
            except api_exceptions.NotFound:
                raise FileNotFoundError(key) from None
            except _ERRORS as error:
                raise self.failure("read", error) from None

        return chunks()

    def exists(self, key: str) -> bool:
        try:
            return bool(self.bucket.blob(self.object_name(key)).exists())
        except _ERRORS as error:
            raise self.failure("exists", error) from None

    def delete(self, key: str) -> None:
        try:
            self.bucket.blob(self.object_name(key)).delete()
        except api_exceptions.NotFound:
            return
        except _ERRORS as error:
            raise self.failure("delete", error) from None

    def presigned_url(
        self, key: str, *, expires_seconds: int, filename: str | None = None
    ) -> str | None:
        check_expiry(expires_seconds)
        blob = self.bucket.blob(self.object_name(key))
        credentials = self.signing_credentials or self.client._credentials
        if not isinstance(credentials, google.auth.credentials.Signing):
            return None
        try:
            url: str = blob.generate_signed_url(
                version="v4",
                expiration=timedelta(seconds=expires_seconds),
                method="GET",
                credentials=credentials,
                response_disposition=attachment_disposition(filename) if filename else None,
            )
        except (*_ERRORS, AttributeError) as error:
            raise self.failure("presign", error) from None
        return url

    def list_pages(
        self,
        prefix: str = "",
        *,
        start_after: str = "",
        recursive: bool = True,
        page_size: int = LIST_PAGE_SIZE,
    ) -> Iterator[list[ListedObject]]:
        """`objects.list` pages; `startOffset` resumes after the last key handled."""
        start = self.prefix + start_after if start_after else None
        try:
            blobs = self.client.list_blobs(
                self.bucket_name,
                prefix=self.prefix + prefix,
                delimiter=None if recursive else "/",
                start_offset=start,
                page_size=page_size,
            )
            for found in blobs.pages:
                page = []
                for blob in found:
                    if start is not None and blob.name <= start:
                        continue
                    key = blob.name[len(self.prefix) :]
                    if key.endswith("/") or not listable_key(key):
                        continue
                    page.append(ListedObject(key=key, size=int(blob.size or 0)))
                if page:
                    yield page
        except _ERRORS as error:
            raise self.failure("list", error) from None

    def check(self) -> None:
        try:
            self.bucket.reload()
        except _ERRORS as error:
            raise self.failure("check", error) from None


class _GCSWriter(ArtifactWriter):
    """Speaks GCS's resumable-upload protocol itself, chunk by chunk.

    (The SDK's `BlobWriter` finalizes the upload when it is garbage-collected, which would
    publish a half artifact if a caller forgot to abort.)
    """

    def __init__(self, storage: GCSArtifactStorage, blob: storage.Blob, content_type: str) -> None:
        super().__init__()
        self._storage = storage
        self._blob = blob
        self._content_type = content_type
        self._buffer = bytearray()
        self._session_url: str | None = None
        #: Bytes GCS has persisted so far.
        self._offset = 0
        self._last_response: Any = None

    @property
    def _http(self) -> Any:
        return self._storage.client._http

    def _write(self, chunk: bytes) -> None:
        self._buffer += chunk
        size = self._storage.chunk_size
        while len(self._buffer) >= size:
            if self._session_url is None:
                self._start_session()
            self._send(bytes(self._buffer[:size]), last=False)
            del self._buffer[:size]

    def _start_session(self) -> None:
        try:
            self._session_url = self._blob.create_resumable_upload_session(
                content_type=self._content_type, checksum=None, timeout=UPLOAD_TIMEOUT
            )
        except _ERRORS as error:
            raise self._storage.failure("write", error) from None

    def _send(self, data: bytes, *, last: bool) -> None:
        """PUT `data` at the current offset; resend what GCS did not persist; finalize if last.

        A 308 names what GCS has; a transient failure (5xx, 429, a dropped connection) is
        retried with backoff after asking GCS how far it got.
        """
        failures = 0
        while True:
            total = str(self._offset + len(data)) if last else "*"
            span = f"{self._offset}-{self._offset + len(data) - 1}" if data else "*"
            status = self._put(data, f"bytes {span}/{total}")
            if status in (200, 201) and last:
                return
            if status == 308:
                remaining = self._advance(data)
                if not remaining and not last:
                    return
                progressed = len(remaining) < len(data)
                data = remaining
                if progressed:
                    continue
            elif status is not None and status not in _TRANSIENT_STATUSES:
                raise ArtifactStorageError(
                    f"gcs bucket {self._storage.bucket_name!r}: write failed (HTTP {status})"
                )
            failures += 1
            if failures >= UPLOAD_ATTEMPTS:
                raise ArtifactStorageError(
                    f"gcs bucket {self._storage.bucket_name!r}: write failed after "
                    f"{failures} attempts (last: {status or 'no response'})"
                )
            time.sleep(0.5 * 2**failures)
            if self._put(b"", "bytes */*") == 308:
                data = self._advance(data)

    def _put(self, data: bytes, content_range: str) -> int | None:
        """One PUT to the session; its status, or None if the connection failed."""
        try:
            response = self._http.put(
                self._session_url,
                data=data,
                headers={"Content-Range": content_range},
                timeout=UPLOAD_TIMEOUT,
            )
        except requests.RequestException:
            self._last_response = None
            return None
        self._last_response = response
        status: int = response.status_code
        return status

    def _advance(self, data: bytes) -> bytes:
        """What is left of `data` once the bytes the last 308 says GCS persisted are dropped."""
        persisted_range = (
            self._last_response.headers.get("Range", "") if self._last_response else ""
        )
        persisted = int(persisted_range.rsplit("-", 1)[1]) + 1 if persisted_range else 0
        sent_through = persisted - self._offset
        self._offset = persisted
        return data[sent_through:]

    def commit(self) -> None:
        data = bytes(self._buffer)
        self._buffer.clear()
        if self._session_url is None:
            # Small enough for one request: a single upload is atomic by itself.
            try:
                self._blob.upload_from_string(
                    data,
                    content_type=self._content_type,
                    timeout=UPLOAD_TIMEOUT,
                    retry=DEFAULT_RETRY,
                )
            except _ERRORS as error:
                raise self._storage.failure("commit", error) from None
            return
        self._send(data, last=True)
        self._session_url = None

    def abort(self) -> None:
        """Cancel the upload session (a DELETE on its URL, as GCS documents)."""
        self._buffer.clear()
        session_url, self._session_url = self._session_url, None
        if session_url is None:
            return
        try:
            self._http.delete(session_url, timeout=30)
        except requests.RequestException:
            logger.info("could not cancel a resumable upload; it expires unfinalized")

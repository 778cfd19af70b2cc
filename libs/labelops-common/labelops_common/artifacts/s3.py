"""Artifacts in an S3 bucket (AWS, or any S3 API: MinIO, R2, ...).

A write buffers one part (8 MiB by default) at a time: an artifact that fits in one part is
a single `PutObject` on commit, a larger one is a multipart upload that only `commit()`
completes and `abort()` aborts, so S3 itself keeps the half-written bytes invisible. An
upload a crashed process never completes stays invisible too; a bucket lifecycle rule
(`AbortIncompleteMultipartUpload`) reclaims its parts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

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

#: S3's smallest part (but the last) is 5 MiB; 8 MiB parts allow artifacts up to ~78 GiB.
DEFAULT_PART_SIZE = 8 * 1024 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024
_MISSING_KEY_CODES = {"NoSuchKey", "404", "NotFound"}
_CHECKSUM_FIELDS = (
    "ChecksumCRC32",
    "ChecksumCRC32C",
    "ChecksumCRC64NVME",
    "ChecksumSHA1",
    "ChecksumSHA256",
)


#: Signature V4 (required by every region opened since 2014, and by presigned URLs there),
#: standard retries with backoff, and timeouts so a dead endpoint fails a job instead of
#: hanging it.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=10,
    read_timeout=60,
    signature_version="s3v4",
)


def s3_client(
    *,
    region_name: str | None = None,
    endpoint_url: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
) -> Any:
    """The one way LabelOps makes a boto3 S3 client: explicit keys (with a session token)
    when given, else the default credential chain (`AWS_*`, profile, IRSA, instance role)."""
    return boto3.session.Session().client(
        "s3",
        region_name=region_name or None,
        endpoint_url=endpoint_url or None,
        aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        aws_session_token=session_token or None,
        config=CLIENT_CONFIG,
    )


class S3ArtifactStorage(ArtifactStorage):
    """Keys live under `prefix` in `bucket`; `client` is a boto3 S3 client (`s3_client`).

    With `sse_kms_key_id`, every object written is encrypted with that KMS key (SSE-KMS).
    """

    def __init__(
        self,
        client: Any,
        *,
        bucket: str,
        prefix: str = "",
        part_size: int = DEFAULT_PART_SIZE,
        sse_kms_key_id: str | None = None,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes")
        self.client = client
        self.bucket = bucket
        self.prefix = normalized_prefix(prefix)
        self.part_size = part_size
        self.sse_kms_key_id = sse_kms_key_id or None

    def encryption_arguments(self) -> dict[str, str]:
        if not self.sse_kms_key_id:
            return {}
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.sse_kms_key_id}

    @classmethod
    def from_environment(cls, *, bucket: str, prefix: str = "") -> S3ArtifactStorage:
        """A client configured the AWS way: `AWS_REGION`, `AWS_ENDPOINT_URL`, keys or IRSA."""
        try:
            client = s3_client()
        except BotoCoreError as error:
            raise ArtifactStorageError(
                f"s3 bucket {bucket!r}: cannot create a client ({type(error).__name__})"
            ) from None
        return cls(client, bucket=bucket, prefix=prefix)

    def object_key(self, key: str) -> str:
        return self.prefix + "/".join(key_parts(key))

    def failure(self, operation: str, error: Exception) -> ArtifactStorageError:
        """The error as ArtifactStorageError, naming only the error code (never a message
        that could echo a request or credential)."""
        if isinstance(error, ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
            detail = f"{code or 'error'}, HTTP {status}"
        else:
            detail = type(error).__name__
        return ArtifactStorageError(f"s3 bucket {self.bucket!r}: {operation} failed ({detail})")

    def writer(self, key: str) -> ArtifactWriter:
        return _S3Writer(self, self.object_key(key), content_type_of(key))

    def read(self, key: str, *, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        name = self.object_key(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING_KEY_CODES:
                raise FileNotFoundError(key) from None
            raise self.failure("read", error) from None
        except BotoCoreError as error:
            raise self.failure("read", error) from None
        body = answer["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(chunk_size)
            except (BotoCoreError, ClientError) as error:
                raise self.failure("read", error) from None
            finally:
                body.close()

        return chunks()

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING_KEY_CODES:
                return False
            raise self.failure("exists", error) from None
        except BotoCoreError as error:
            raise self.failure("exists", error) from None
        return True

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        except (BotoCoreError, ClientError) as error:
            raise self.failure("delete", error) from None

    def presigned_url(
        self, key: str, *, expires_seconds: int, filename: str | None = None
    ) -> str | None:
        check_expiry(expires_seconds)
        params = {"Bucket": self.bucket, "Key": self.object_key(key)}
        if filename:
            params["ResponseContentDisposition"] = attachment_disposition(filename)
        try:
            url: str = self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires_seconds, HttpMethod="GET"
            )
        except BotoCoreError as error:
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
        """`ListObjectsV2` pages; `StartAfter` makes a resumed listing cost only what follows."""
        arguments: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": self.prefix + prefix,
            "MaxKeys": page_size,
        }
        if start_after:
            arguments["StartAfter"] = self.prefix + start_after
        if not recursive:
            arguments["Delimiter"] = "/"
        while True:
            try:
                answer = self.client.list_objects_v2(**arguments)
            except (BotoCoreError, ClientError) as error:
                raise self.failure("list", error) from None
            page = []
            for item in answer.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                if key.endswith("/") or not listable_key(key):
                    continue
                page.append(ListedObject(key=key, size=int(item.get("Size", 0))))
            if page:
                yield page
            token = answer.get("NextContinuationToken")
            if not answer.get("IsTruncated") or not token:
                return
            arguments["ContinuationToken"] = token
            arguments.pop("StartAfter", None)

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as error:
            raise self.failure("check", error) from None


class _S3Writer(ArtifactWriter):
    def __init__(self, storage: S3ArtifactStorage, name: str, content_type: str) -> None:
        super().__init__()
        self._storage = storage
        self._name = name
        self._content_type = content_type
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    @property
    def _client(self) -> Any:
        return self._storage.client

    def _write(self, chunk: bytes) -> None:
        self._buffer += chunk
        while len(self._buffer) >= self._storage.part_size:
            part = bytes(self._buffer[: self._storage.part_size])
            del self._buffer[: self._storage.part_size]
            self._upload_part(part)

    def _upload_part(self, data: bytes) -> None:
        bucket = self._storage.bucket
        try:
            if self._upload_id is None:
                started = self._client.create_multipart_upload(
                    Bucket=bucket,
                    Key=self._name,
                    ContentType=self._content_type,
                    **self._storage.encryption_arguments(),
                )
                self._upload_id = started["UploadId"]
            number = len(self._parts) + 1
            answer = self._client.upload_part(
                Bucket=bucket,
                Key=self._name,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=data,
            )
        except (BotoCoreError, ClientError) as error:
            raise self._storage.failure("write", error) from None
        part = {"PartNumber": number, "ETag": answer["ETag"]}
        part.update({field: answer[field] for field in _CHECKSUM_FIELDS if field in answer})
        self._parts.append(part)

    def commit(self) -> None:
        bucket = self._storage.bucket
        try:
            if self._upload_id is None:
                self._client.put_object(
                    Bucket=bucket,
                    Key=self._name,
                    Body=bytes(self._buffer),
                    ContentType=self._content_type,
                    **self._storage.encryption_arguments(),
                )
            else:
                if self._buffer:
                    self._upload_part(bytes(self._buffer))
                self._client.complete_multipart_upload(
                    Bucket=bucket,
                    Key=self._name,
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},
                )
        except (BotoCoreError, ClientError) as error:
            raise self._storage.failure("commit", error) from None
        finally:
            self._buffer.clear()

    def abort(self) -> None:
        self._buffer.clear()
        if self._upload_id is None:
            return
        upload_id, self._upload_id = self._upload_id, None
        try:
            self._client.abort_multipart_upload(
                Bucket=self._storage.bucket, Key=self._name, UploadId=upload_id
            )
        except (BotoCoreError, ClientError):
            # The parts stay invisible; the bucket's lifecycle rule reclaims them.
            return

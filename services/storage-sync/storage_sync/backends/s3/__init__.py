"""Amazon S3 and S3-compatible endpoints (MinIO, R2, moto): keys, a session token or the
default credential chain; SSE-KMS on written objects; a custom endpoint passes the
outbound address policy before a client is built."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError
from labelops_common.artifacts.s3 import S3ArtifactStorage, s3_client
from labelops_common.outbound import OutboundRefused

from storage_sync.backends.base import (
    ArtifactBackend,
    ConnectContext,
    FieldSpec,
    StorageBackend,
    StorageConnectionError,
    StorageType,
)

#: S3's bucket naming rules (3-63 characters; lowercase letters, digits, dots, hyphens).
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class S3StorageType(StorageType):
    name = "s3"
    title = "AWS S3"
    scheme = "s3"
    fields = (
        FieldSpec("bucket", required=True),
        FieldSpec("prefix", default=""),
        FieldSpec("region_name", default=None),
        FieldSpec("s3_endpoint", default=None),
        FieldSpec("aws_sse_kms_key_id", default=None),
        FieldSpec("aws_access_key_id", secret=True),
        FieldSpec("aws_secret_access_key", secret=True),
        FieldSpec("aws_session_token", secret=True),
    )

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> dict[str, list[str]]:
        errors = super().check_settings(settings)
        bucket = settings.get("bucket")
        if bucket and not BUCKET_NAME.match(str(bucket)):
            errors["bucket"] = [
                "Not a valid S3 bucket name (3-63 lowercase letters, digits, dots or hyphens)."
            ]
        return errors

    @classmethod
    def connect(
        cls, settings: Mapping[str, Any], secrets: Mapping[str, str], context: ConnectContext
    ) -> StorageBackend:
        endpoint = settings.get("s3_endpoint") or None
        if endpoint:
            try:
                context.policy.check_url(endpoint)
            except OutboundRefused as refused:
                raise StorageConnectionError(refused.reason, field="s3_endpoint") from None
        key_id, secret = secrets.get("aws_access_key_id"), secrets.get("aws_secret_access_key")
        if bool(key_id) != bool(secret):
            raise StorageConnectionError(
                "Give both the access key id and the secret access key, or neither "
                "(the default credential chain).",
                field="aws_secret_access_key" if key_id else "aws_access_key_id",
            )
        try:
            client = s3_client(
                region_name=settings.get("region_name") or None,
                endpoint_url=endpoint,
                access_key_id=key_id,
                secret_access_key=secret,
                session_token=secrets.get("aws_session_token"),
            )
        except (BotoCoreError, ValueError) as error:
            raise StorageConnectionError(
                f"Cannot create an S3 client ({type(error).__name__}).", field="s3_endpoint"
            ) from None
        bucket = str(settings["bucket"])
        artifacts = S3ArtifactStorage(
            client, bucket=bucket, sse_kms_key_id=settings.get("aws_sse_kms_key_id")
        )
        return ArtifactBackend(artifacts, scheme="s3", bucket=bucket)

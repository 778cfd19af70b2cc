"""Google Cloud Storage: a service-account key (JSON, which also signs URLs) or application
default credentials. `STORAGE_EMULATOR_HOST` points the client at an emulator."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from labelops_common.artifacts import ArtifactStorageError
from labelops_common.artifacts.gcs import GCSArtifactStorage

from storage_sync.backends.base import (
    ArtifactBackend,
    ConnectContext,
    FieldSpec,
    StorageBackend,
    StorageConnectionError,
    StorageType,
)

BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


class GCSStorageType(StorageType):
    name = "gcs"
    title = "Google Cloud Storage"
    scheme = "gs"
    fields = (
        FieldSpec("bucket", required=True),
        FieldSpec("prefix", default=""),
        FieldSpec("google_project_id", default=None),
        FieldSpec("google_application_credentials", secret=True),
    )

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> dict[str, list[str]]:
        errors = super().check_settings(settings)
        bucket = settings.get("bucket")
        if bucket and not BUCKET_NAME.match(str(bucket)):
            errors["bucket"] = ["Not a valid GCS bucket name."]
        return errors

    @classmethod
    def connect(
        cls, settings: Mapping[str, Any], secrets: Mapping[str, str], context: ConnectContext
    ) -> StorageBackend:
        raw = secrets.get("google_application_credentials") or ""
        info: dict[str, Any] | None = None
        if raw:
            try:
                info = json.loads(raw)
            except json.JSONDecodeError:
                info = None
            if not isinstance(info, dict) or info.get("type") != "service_account":
                raise StorageConnectionError(
                    "Must be a service-account key file's JSON.",
                    field="google_application_credentials",
                )
        bucket = str(settings["bucket"])
        try:
            artifacts = GCSArtifactStorage.connect(
                bucket=bucket,
                credentials_info=info,
                project_id=settings.get("google_project_id") or None,
            )
        except ArtifactStorageError as error:
            raise StorageConnectionError(
                str(error), field="google_application_credentials"
            ) from None
        return ArtifactBackend(artifacts, scheme="gs", bucket=bucket)

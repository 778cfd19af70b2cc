"""Where artifacts (export files, later media) live: one small contract, one module per backend.

`artifact_storage(common, local_root=...)` picks the backend from `LABELOPS_ARTIFACT_STORAGE`
(`local`, `s3`, `gcs`, `azure`), the bucket (or container) from `LABELOPS_ARTIFACT_BUCKET`
and a key prefix from `LABELOPS_ARTIFACT_PREFIX`; credentials come the way each SDK reads
them (`AWS_*`, `GOOGLE_APPLICATION_CREDENTIALS`, `AZURE_STORAGE_CONNECTION_STRING`). Local
disk only works when every process that reads an artifact shares the disk (one process on
a laptop); in Kubernetes the worker and the API pods need an object store. The cloud SDKs
are imported only when their backend is chosen.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from labelops_common.artifacts.base import (
    ArtifactStorage,
    ArtifactStorageError,
    ArtifactWriter,
    key_parts,
)
from labelops_common.artifacts.local import LocalArtifactStorage

if TYPE_CHECKING:
    from labelops_common.settings import CommonSettings

__all__ = [
    "ArtifactStorage",
    "ArtifactStorageError",
    "ArtifactWriter",
    "LocalArtifactStorage",
    "artifact_storage",
    "key_parts",
]


def artifact_storage(common: CommonSettings, *, local_root: Path) -> ArtifactStorage:
    """The storage the settings name; `local_root` is where the local backend keeps files."""
    kind = common.artifact_storage
    bucket, prefix = common.artifact_bucket, common.artifact_prefix
    if kind == "s3":
        from labelops_common.artifacts.s3 import S3ArtifactStorage

        return S3ArtifactStorage.from_environment(bucket=bucket, prefix=prefix)
    if kind == "gcs":
        from labelops_common.artifacts.gcs import GCSArtifactStorage

        return GCSArtifactStorage.from_environment(bucket=bucket, prefix=prefix)
    if kind == "azure":
        from labelops_common.artifacts.azure import AzureArtifactStorage

        return AzureArtifactStorage.from_environment(bucket=bucket, prefix=prefix)
    return LocalArtifactStorage(local_root)

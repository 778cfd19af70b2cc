"""The storage types, one sub-package each, found by Label Studio's name."""

from __future__ import annotations

from storage_sync.backends.azure import AzureStorageType
from storage_sync.backends.base import (
    ConnectContext,
    StorageBackend,
    StorageConnectionError,
    StorageType,
)
from storage_sync.backends.gcs import GCSStorageType
from storage_sync.backends.localfiles import LocalFilesStorageType
from storage_sync.backends.redis import RedisStorageType
from storage_sync.backends.s3 import S3StorageType

__all__ = [
    "STORAGE_TYPES",
    "ConnectContext",
    "StorageBackend",
    "StorageConnectionError",
    "StorageType",
    "storage_type",
]

#: In the order Label Studio lists them.
STORAGE_TYPES: dict[str, type[StorageType]] = {
    kind.name: kind
    for kind in (
        S3StorageType,
        GCSStorageType,
        AzureStorageType,
        RedisStorageType,
        LocalFilesStorageType,
    )
}


def storage_type(name: str) -> type[StorageType] | None:
    return STORAGE_TYPES.get(name)

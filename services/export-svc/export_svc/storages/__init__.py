"""storage-sync, as export-svc sees it: export storages a snapshot may be written to, and
bucket URIs turned into URLs for media. storage-sync owns the connections and their
credentials; export-svc never holds one."""

from export_svc.storages.client import (
    ExportStorageInfo,
    StorageClient,
    StorageWriteFailed,
    WrittenObject,
)

__all__ = ["ExportStorageInfo", "StorageClient", "StorageWriteFailed", "WrittenObject"]

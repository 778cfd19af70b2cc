"""storage-sync settings (env prefix `LABELOPS_STORAGE_SYNC_`)."""

from __future__ import annotations

from pathlib import Path

from labelops_common.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LABELOPS_STORAGE_SYNC_", extra="ignore")

    service_name: str = "storage-sync"
    #: Local-files storages must lie strictly under this directory (Label Studio's
    #: `LOCAL_FILES_DOCUMENT_ROOT`); unset, local-files storages are refused.
    local_files_document_root: Path | None = None
    #: Serve `/data/local-files/` (Label Studio's `LOCAL_FILES_SERVING_ENABLED`).
    local_files_serving_enabled: bool = True
    #: Tasks per `BulkCreateTasks` message (task-svc writes each listing page in one stream).
    task_batch_size: int = 1000
    #: Objects per listing page; each page is one `BulkCreateTasks` stream and one commit.
    listing_page_size: int = 1000
    #: Deadline of one `BulkCreateTasks` stream (one listing page), in seconds.
    bulk_create_deadline_seconds: float = 300.0
    #: An import sync of S3 or GCS lists only what follows the last key it handled; once
    #: this long has passed since the last full listing, the next sync lists everything
    #: again (objects added with keys sorting before the checkpoint are found then, or at
    #: once with `POST .../sync?full=true`). 0: always list in full.
    full_scan_interval_seconds: float = 3600.0
    #: A JSON or JSONL object larger than this is refused by the sync (bytes).
    max_task_object_bytes: int = 256 * 1024 * 1024

"""export-svc settings (env prefix `LABELOPS_EXPORT_SVC_`)."""

from __future__ import annotations

from pathlib import Path

from labelops_common.settings import CommonSettings, ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LABELOPS_EXPORT_SVC_", extra="ignore")

    service_name: str = "export-svc"
    #: Root of export artifacts on local disk (`exports/<project>/...` under it); empty = the
    #: data dir. Used when `LABELOPS_ARTIFACT_STORAGE=local`; object stores use the bucket.
    artifacts_dir: Path | None = None
    #: Tasks per `StreamTasks` message: memory per export is bounded by one batch.
    stream_batch_size: int = 500
    #: Deadline of one whole `StreamTasks` call (seconds); a million-task export takes minutes.
    stream_deadline_seconds: float = 3600.0
    #: Snapshots `GET /exports` lists (Label Studio: newest 100).
    snapshot_list_limit: int = 100
    #: Finished snapshots (and their conversions) older than this many days are removed,
    #: rows and files, by a sweep every worker process runs; 0 keeps them forever.
    snapshot_retention_days: float = Field(default=30.0, ge=0)
    #: How often a running snapshot records its progress and notices a cancellation.
    progress_interval_seconds: float = Field(default=1.0, gt=0)
    #: Downloads of a stored file from an object store redirect (307) to a presigned URL
    #: valid this many seconds, so the bytes (and range requests) bypass the API; 0 streams
    #: them through the API (e.g. when clients cannot reach the store's endpoint).
    presigned_download_seconds: int = Field(default=300, ge=0, le=7 * 24 * 3600)
    #: Most bytes of media (images, audio) one export may fetch into its archive
    #: (`*_WITH_IMAGES`, `download_resources`); past it the export fails with a 400 that
    #: says so, rather than leave files out.
    media_max_bytes: int = Field(default=2 * 1024**3, ge=0)
    #: Seconds one media download may take (connect, and between bytes).
    media_timeout_seconds: float = Field(default=30.0, gt=0)
    #: Root of uploaded files on local disk (task-svc's `LABELOPS_TASK_SVC_UPLOADS_DIR`);
    #: empty = the data dir. Object stores read uploads from the shared artifact bucket.
    uploads_dir: Path | None = None
    #: Root under which `/data/local-files/?d=<path>` media is read (Label Studio's
    #: `LOCAL_FILES_DOCUMENT_ROOT`); empty = local files are not read.
    local_files_root: Path | None = None

    #: Deadline of one whole write of a snapshot file to an export storage through
    #: storage-sync (seconds): a large snapshot takes minutes.
    storage_write_deadline_seconds: float = Field(default=3600.0, gt=0)
    #: Lifetime of the presigned URLs storage-sync gives for `s3://`, `gs://` and
    #: `azure-blob://` media fetched into archives.
    media_url_ttl_seconds: int = Field(default=300, ge=1, le=7 * 24 * 3600)

    def resolved_artifacts_dir(self, common: CommonSettings) -> Path:
        return (self.artifacts_dir or common.data_dir).resolve()

    def resolved_uploads_dir(self, common: CommonSettings) -> Path:
        return (self.uploads_dir or common.data_dir).resolve()

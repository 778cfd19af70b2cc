"""task-svc settings (env prefix `LABELOPS_TASK_SVC_`)."""

from __future__ import annotations

from pathlib import Path

from labelops_common.artifacts.base import MAX_PRESIGN_SECONDS
from labelops_common.settings import CommonSettings, ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LABELOPS_TASK_SVC_", extra="ignore")

    service_name: str = "task-svc"
    #: How long the label stream holds a task for the annotator it handed it to (seconds;
    #: Label Studio's TASK_LOCK_TTL).
    task_lock_ttl_seconds: int = 86400
    #: How long the review stream holds an annotation for the reviewer it handed it to,
    #: so other reviewers get other ones meanwhile (seconds).
    review_lock_ttl_seconds: int = Field(default=3600, gt=0)
    #: The longest the label stream waits for a pre-label from the project's ML backend
    #: (through ml-gateway) before handing the task out without one (seconds).
    prelabel_timeout_seconds: float = Field(default=3.5, gt=0, le=60)

    #: Import bodies up to this size run inside the request; larger ones become a queued job
    #: (`{"import": <id>}`), so a 250 MB upload never holds a web worker for minutes.
    import_sync_max_bytes: int = 8 * 1024 * 1024
    #: Largest accepted import body (Label Studio's DATA_UPLOAD_MAX_MEMORY_SIZE is 250 MB).
    import_max_bytes: int = 250 * 1024 * 1024
    #: `url=` imports: how long a download may take, and how many redirects it may follow.
    import_url_timeout_seconds: float = 60.0
    import_url_max_redirects: int = 5
    #: Largest number of tasks in one import (Label Studio's TASKS_MAX_NUMBER).
    import_max_tasks: int = 1_000_000
    #: Tasks written per batch (one COPY / executemany and one counter update each).
    import_batch_size: int = 5000
    #: Files per multipart import (Label Studio's DATA_UPLOAD_MAX_NUMBER_FILES).
    import_max_files: int = 100
    #: Root of uploaded files (`upload/<project>/<8hex>-<name>`) and spooled import bodies
    #: (`import-bodies/`) on local disk; empty = the data dir. Used when
    #: `LABELOPS_ARTIFACT_STORAGE=local`; object stores keep the same keys in the bucket.
    uploads_dir: Path | None = None
    #: Lifetime of the presigned URL `/data/upload/...` redirects to when uploads live in an
    #: object store (seconds; at most seven days).
    upload_url_expires_seconds: int = Field(default=3600, ge=1, le=MAX_PRESIGN_SECONDS)

    #: A data-manager list query that one data-field index can answer (one String `equal`
    #: on a data key and/or an ordering by one) creates that index once the project has
    #: this many tasks; smaller projects page fast enough without one.
    data_field_index_min_tasks: int = Field(default=20_000, ge=0)

    def resolved_uploads_dir(self, common: CommonSettings) -> Path:
        return (self.uploads_dir or common.data_dir).resolve()

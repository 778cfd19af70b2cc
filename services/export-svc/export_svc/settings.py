"""export-svc settings (env prefix `LABELOPS_EXPORT_SVC_`)."""

from __future__ import annotations

from pathlib import Path

from labelops_common.settings import CommonSettings, ServiceSettings
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

    def resolved_artifacts_dir(self, common: CommonSettings) -> Path:
        return (self.artifacts_dir or common.data_dir).resolve()

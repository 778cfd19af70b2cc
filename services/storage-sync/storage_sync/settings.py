"""storage-sync settings (env prefix `LABELOPS_STORAGE_SYNC_`)."""

from __future__ import annotations

from labelops_common.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LABELOPS_STORAGE_SYNC_", extra="ignore")

    service_name: str = "storage-sync"

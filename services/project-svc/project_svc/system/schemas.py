"""Response shapes of `/health` and `/api/version` (Label Studio's fields)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class HealthAnswer(BaseModel):
    status: str


class PackageVersion(BaseModel):
    version: str
    short_version: str
    latest_version_from_pypi: str | None


class BackendVersion(BaseModel):
    message: str
    commit: str


class ComponentVersion(BaseModel):
    version: str


class VersionAnswer(BaseModel):
    """Label Studio's `/api/version`; its keys with hyphens are aliases here."""

    model_config = ConfigDict(populate_by_name=True)

    release: str
    edition: str
    os_package: PackageVersion = Field(alias="label-studio-os-package")
    os_backend: BackendVersion = Field(alias="label-studio-os-backend")
    frontend: dict[str, Any] = Field(alias="label-studio-frontend")
    dm2: dict[str, Any]
    converter: ComponentVersion = Field(alias="label-studio-converter")
    labelops: ComponentVersion

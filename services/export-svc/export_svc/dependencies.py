"""export-svc's handler dependencies, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from labelops_common.directory import ProjectDirectory, UserDirectory
from labelops_common.http.deps import DbSession

from export_svc.artifacts import ArtifactStorage
from export_svc.media import MediaAccess
from export_svc.settings import Settings
from export_svc.storages import StorageClient
from export_svc.tasks.stream import TaskSource

__all__ = [
    "Artifacts",
    "DbSession",
    "ExportSettings",
    "Media",
    "People",
    "Projects",
    "Storages",
    "Tasks",
]


async def get_project_directory(request: Request) -> ProjectDirectory:
    directory: ProjectDirectory = request.app.state.project_directory
    return directory


async def get_user_directory(request: Request) -> UserDirectory:
    directory: UserDirectory = request.app.state.user_directory
    return directory


def get_artifact_storage(request: Request) -> ArtifactStorage:
    storage: ArtifactStorage = request.app.state.artifact_storage
    return storage


def get_task_source(request: Request) -> TaskSource:
    source: TaskSource = request.app.state.task_source
    return source


def get_media_access(request: Request) -> MediaAccess:
    media: MediaAccess = request.app.state.media_access
    return media


def get_storage_client(request: Request) -> StorageClient:
    storages: StorageClient = request.app.state.storage_client
    return storages


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Projects = Annotated[ProjectDirectory, Depends(get_project_directory)]
People = Annotated[UserDirectory, Depends(get_user_directory)]
Artifacts = Annotated[ArtifactStorage, Depends(get_artifact_storage)]
Tasks = Annotated[TaskSource, Depends(get_task_source)]
ExportSettings = Annotated[Settings, Depends(get_settings)]
Media = Annotated[MediaAccess, Depends(get_media_access)]
Storages = Annotated[StorageClient, Depends(get_storage_client)]

"""storage-sync's handler dependencies, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from labelops_common.directory import ProjectDirectory
from labelops_common.http.deps import DbSession

from storage_sync.backends import ConnectContext
from storage_sync.settings import Settings
from storage_sync.storages.secrets import SecretBox
from storage_sync.sync.tasks import TaskClient

__all__ = ["Box", "Connect", "DbSession", "Projects", "StorageSettings", "Tasks"]


async def get_project_directory(request: Request) -> ProjectDirectory:
    directory: ProjectDirectory = request.app.state.project_directory
    return directory


async def get_box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secret_box
    return box


async def get_connect_context(request: Request) -> ConnectContext:
    context: ConnectContext = request.app.state.connect_context
    return context


async def get_task_client(request: Request) -> TaskClient:
    client: TaskClient = request.app.state.task_client
    return client


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Projects = Annotated[ProjectDirectory, Depends(get_project_directory)]
Box = Annotated[SecretBox, Depends(get_box)]
Connect = Annotated[ConnectContext, Depends(get_connect_context)]
Tasks = Annotated[TaskClient, Depends(get_task_client)]
StorageSettings = Annotated[Settings, Depends(get_settings)]

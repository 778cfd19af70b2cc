"""ml-gateway's handler dependencies, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from labelops_common.directory import ProjectDirectory
from labelops_common.http.deps import DbSession

from ml_gateway.backends.protocol import ProtocolClient
from ml_gateway.predictions.tasks import TaskStore
from ml_gateway.settings import Settings

__all__ = ["Backends", "DbSession", "MLSettings", "Projects", "Tasks"]


async def get_project_directory(request: Request) -> ProjectDirectory:
    directory: ProjectDirectory = request.app.state.project_directory
    return directory


async def get_protocol_client(request: Request) -> ProtocolClient:
    client: ProtocolClient = request.app.state.protocol_client
    return client


async def get_task_store(request: Request) -> TaskStore:
    store: TaskStore = request.app.state.task_store
    return store


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Projects = Annotated[ProjectDirectory, Depends(get_project_directory)]
Backends = Annotated[ProtocolClient, Depends(get_protocol_client)]
Tasks = Annotated[TaskStore, Depends(get_task_store)]
MLSettings = Annotated[Settings, Depends(get_settings)]

"""task-svc's handler dependencies, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from labelops_common.directory import ProjectDirectory, UserDirectory
from labelops_common.http.deps import DbSession

from task_svc.media.service import MediaResolver
from task_svc.settings import Settings

__all__ = ["DbSession", "Media", "Projects", "TaskSettings", "Users"]


async def get_project_directory(request: Request) -> ProjectDirectory:
    directory: ProjectDirectory = request.app.state.project_directory
    return directory


Projects = Annotated[ProjectDirectory, Depends(get_project_directory)]


async def get_user_directory(request: Request) -> UserDirectory:
    directory: UserDirectory = request.app.state.user_directory
    return directory


Users = Annotated[UserDirectory, Depends(get_user_directory)]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


TaskSettings = Annotated[Settings, Depends(get_settings)]


async def get_media_resolver(request: Request) -> MediaResolver:
    resolver: MediaResolver = request.app.state.media_resolver
    return resolver


Media = Annotated[MediaResolver, Depends(get_media_resolver)]

"""Media for the browser: `/tasks/<id>/resolve/?fileuri=...` (and Label Studio's older
`/presign/`) and `/data/local-files/?d=...`, for signed-in users of the project's
organization only."""

from __future__ import annotations

import mimetypes
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.http.errors import (
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    ValidationFailed,
)
from labelops_common.http.routing import ApiRouter

from storage_sync.backends import StorageConnectionError
from storage_sync.backends.localfiles import LocalFilesBackend
from storage_sync.dependencies import Box, Connect, DbSession, Projects, StorageSettings, Tasks
from storage_sync.media import service as media
from storage_sync.storages import policies
from storage_sync.storages import service as storages
from storage_sync.sync.tasks import TaskClient, TasksRefused, TasksUnavailable

router = ApiRouter(tags=["media"])

MEDIA_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "The object's bytes (presigning off)."},
    303: {"description": "A redirect to a presigned URL."},
}


def _resolve_task_media(
    task_id: int,
    request: Request,
    session: DbSession,
    box: Box,
    connect: Connect,
    tasks: Tasks,
    projects: Projects,
    principal: CurrentUser,
) -> Response:
    fileuri = request.query_params.get("fileuri")
    if not fileuri:
        raise ValidationFailed({"fileuri": ["This parameter is required."]})
    uri = media.decode_fileuri(fileuri)
    for storage in media.candidate_storages(
        session, uri=uri, organization_id=principal.organization_id
    ):
        if not policies.can_read_media(principal, projects.get(storage.project_id)):
            continue
        if not _project_holds_task(tasks, storage.project_id, task_id):
            continue
        resolved = media.resolve(storage, uri, box=box, context=connect)
        if resolved is None:
            continue
        if resolved.url:
            ttl = storage.presign_ttl * 60
            return RedirectResponse(
                resolved.url,
                status_code=303,
                headers={"Cache-Control": f"no-store, max-age={ttl}"},
            )
        backend = storages.connect(storage, box=box, context=connect)
        try:
            chunks = backend.stream(resolved.key)
        except FileNotFoundError:
            raise NotFound() from None
        except StorageConnectionError:
            # Label Studio's answer when the storage behind the proxy fails.
            return Response(status_code=424)
        media_type = mimetypes.guess_type(resolved.key)[0] or "application/octet-stream"
        return StreamingResponse(
            chunks, media_type=media_type, headers={"Cache-Control": "private, max-age=0"}
        )
    raise NotFound()


def _project_holds_task(tasks: TaskClient, project_id: int, task_id: int) -> bool:
    """Whether task-svc has the task in the project. A project it no longer knows (deleted
    while its storages and the project cache here still name it) holds nothing."""
    try:
        return bool(tasks.read(project_id, [task_id]))
    except TasksRefused:
        return False
    except TasksUnavailable:
        raise ServiceUnavailable() from None


for _path in ("/tasks/{task_id:int}/resolve", "/tasks/{task_id:int}/presign"):
    router.add_api_route(
        _path,
        _resolve_task_media,
        methods=["GET"],
        response_class=Response,
        responses=MEDIA_RESPONSES,
        operation_id="resolve_task_media" if _path.endswith("resolve") else "presign_task_media",
    )


@router.get("/data/local-files", response_class=FileResponse, responses=MEDIA_RESPONSES)
def serve_local_file(
    request: Request,
    session: DbSession,
    box: Box,
    connect: Connect,
    settings: StorageSettings,
    projects: Projects,
    principal: CurrentUser,
) -> FileResponse:
    """A file under a local-files import storage of the caller's organization."""
    if not settings.local_files_serving_enabled:
        raise PermissionDenied("Serving local files is off.")
    relative = request.query_params.get("d")
    if not relative:
        raise ValidationFailed({"d": ["This parameter is required."]})
    uri = f"/data/local-files/?d={quote(relative, safe='/')}"
    for storage in media.candidate_storages(
        session, uri=uri, organization_id=principal.organization_id
    ):
        if not policies.can_read_media(principal, projects.get(storage.project_id)):
            continue
        try:
            backend = storages.connect(storage, box=box, context=connect)
        except StorageConnectionError:
            continue
        if not isinstance(backend, LocalFilesBackend):
            continue
        prefix = backend.relative + "/"
        if not relative.startswith(prefix):
            continue
        try:
            path = backend.file_of(relative[len(prefix) :])
        except ValueError:
            raise NotFound() from None
        if path.is_file():
            return FileResponse(path)
    raise NotFound()

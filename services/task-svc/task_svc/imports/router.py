"""Import routes: `/api/projects/{id}/import` and its relatives, and serving uploads (thin).

The body of an import is never read whole (`imports.spooling` stores it as it arrives).
Database and storage work runs in the thread pool, since handlers here are async to stream.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import PurePosixPath
from typing import Any

from fastapi import Request, Response
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
from labelops_common.artifacts import (
    ArtifactStorage,
    LocalArtifactStorage,
)
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.principal import Principal
from labelops_common.directory import ProjectDirectory, ProjectInfo
from labelops_common.http.answers import documented
from labelops_common.http.errors import (
    NotFound,
    ValidationFailed,
)
from labelops_common.http.params import parse_bool, parse_int_list
from labelops_common.http.routing import ApiRouter
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from task_svc import access
from task_svc.audit import service as audit
from task_svc.db import analyze_if_grown
from task_svc.dependencies import DbSession, Projects
from task_svc.imports import jobs, uploads
from task_svc.imports import service as imports
from task_svc.imports.models import FileUpload
from task_svc.imports.schemas import (
    UPLOADED_FILE_RESPONSES,
    FileUploadAnswer,
    FileUploadsDelete,
    FileUploadsDeletedAnswer,
    ImportAnswer,
    ImportJobAnswer,
    ImportResultAnswer,
    PredictionsImportedAnswer,
    ReimportAnswer,
    ReimportBody,
)
from task_svc.imports.spooling import (
    Received,
    check_length,
    discard,
    receive_body,
    storage_reachable,
)
from task_svc.settings import Settings

router = ApiRouter(tags=["imports"])


_UPLOAD_FILEPATH = re.compile(r"^upload/(\d+)/([^/\\]+)$")

#: The import routes answer as `_start_import` built the body (the same body is replayed
#: for a retried request): documented, not validated.
IMPORT_RESPONSES = documented(ImportAnswer, 201)


#: Sent with every uploaded file this service answers with itself.
_FILE_HEADERS = {
    # User-supplied HTML/SVG must not run as this origin's script.
    "Content-Security-Policy": "sandbox",
    "X-Content-Type-Options": "nosniff",
}


def _settings(request: Request) -> tuple[Settings, ArtifactStorage]:
    """This instance's settings and the storage of its uploads and import bodies."""
    settings: Settings = request.app.state.settings
    storage: ArtifactStorage = request.app.state.artifact_storage
    return settings, storage


def _limits(settings: Settings) -> imports.Limits:
    return imports.Limits(
        max_tasks=settings.import_max_tasks, batch_size=settings.import_batch_size
    )


def _options(request: Request) -> imports.ImportOptions:
    query = request.query_params
    fields: list[str] = []
    for value in query.getlist("preannotated_from_fields"):
        fields.extend(part.strip() for part in re.split(r"[,;|]", value) if part.strip())
    return imports.ImportOptions(
        commit_to_project=parse_bool(
            query.get("commit_to_project"), field="commit_to_project", default=True
        ),
        return_task_ids=parse_bool(
            query.get("return_task_ids"), field="return_task_ids", default=False
        ),
        preannotated_from_fields=list(dict.fromkeys(fields)),
    )


def _project(
    projects: ProjectDirectory, principal: Principal, project_id: int, policy: Any
) -> ProjectInfo:
    return access.project_for(projects, principal, project_id, policy)


def _start_import(
    session: Session,
    *,
    project: ProjectInfo,
    principal: Principal,
    received: Received,
    options: imports.ImportOptions,
    settings: Settings,
    storage: ArtifactStorage,
    request_key: str | None,
    sources: list[imports.Source] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Register uploads, then run inline or queue; returns (status code, body).

    On any failure nothing stays: the transaction is rolled back and the files this
    request stored are deleted; a failed job row is recorded for a bad input.
    """
    request: imports.ImportRequest | None = None
    queued = False
    try:
        upload_sources = list(sources or [])
        file_upload_ids = [s.file_upload_id for s in upload_sources if s.file_upload_id]
        for path, name, size in received.uploads:
            upload = imports.add_file_upload(
                session, project_id=project.id, user_id=principal.user_id, path=path, size=size
            )
            upload_sources.append(
                imports.Source(path=path, filename=name, file_upload_id=upload.id)
            )
            file_upload_ids.append(upload.id)
        body_sources = [imports.Source(path=path, filename=name) for path, name in received.bodies]
        request = imports.ImportRequest(
            project_id=project.id,
            user_id=principal.user_id,
            user_email=principal.email or None,
            sources=upload_sources + body_sources,
            options=options,
            temporary_paths=[path for path, _ in received.bodies],
            file_upload_ids=file_upload_ids,
        )
        job = imports.new_job(
            session,
            request=request,
            request_key=request_key,
            queued=received.size > settings.import_sync_max_bytes,
        )
        if received.size > settings.import_sync_max_bytes:
            jobs.import_tasks.enqueue_after_commit(session, job.id)
            session.commit()
            queued = True
            return 201, {"import": job.id}
        response = imports.execute_import(
            session, project=project, request=request, storage=storage, limits=_limits(settings)
        )
        imports.finish_job_inline(session, job=job, response=response)
        audit.tasks_imported(
            session, principal, project_id=project.id, import_id=job.id, response=response
        )
        session.commit()
        analyze_if_grown(session.get_bind().engine, "tasks", added=response.get("task_count") or 0)
        return 201, response
    except ValidationFailed as exc:
        session.rollback()
        discard(storage, [path for path, _, _ in received.uploads])
        if request is not None:
            imports.record_failed_job(session, request=request, error=exc)
            session.commit()
        raise
    except BaseException:
        session.rollback()
        discard(storage, [path for path, _, _ in received.uploads])
        raise
    finally:
        if not queued:
            discard(storage, [path for path, _ in received.bodies])


def _replay(session: Session, request_key: str) -> tuple[int, dict[str, Any]] | None:
    """A retried POST with the same Idempotency-Key gets the first answer, not a 2nd import."""
    job = imports.job_by_key(session, request_key=request_key)
    if job is None:
        return None
    if imports.is_queued(job):
        return 201, {"import": job.id}
    return 201, imports.sync_response(job)


async def _import(
    project_id: int,
    request: Request,
    session: Session,
    projects: ProjectDirectory,
    principal: Principal,
) -> JSONResponse:
    settings, storage = _settings(request)
    project = await run_in_threadpool(
        _project, projects, principal, project_id, access.can_manage_tasks
    )
    options = _options(request)
    key = request.headers.get("idempotency-key", "").strip()
    request_key = f"import:{project_id}:{key}"[:128] if key else None
    if request_key is not None:
        replayed = await run_in_threadpool(_replay, session, request_key)
        if replayed is not None:
            return JSONResponse(replayed[1], status_code=replayed[0])
    check_length(request, settings)
    with storage_reachable():
        received = await receive_body(
            request,
            settings,
            storage,
            keep_body=not options.commit_to_project,
            project_id=project_id,
        )
        status, body = await run_in_threadpool(
            _start_import,
            session,
            project=project,
            principal=principal,
            received=received,
            options=options,
            settings=settings,
            storage=storage,
            request_key=request_key,
        )
    return JSONResponse(body, status_code=status)


@router.post(
    "/api/projects/{project_id:int}/import",
    status_code=201,
    response_model=None,
    responses=IMPORT_RESPONSES,
)
async def import_tasks(
    project_id: int,
    request: Request,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> JSONResponse:
    """Label Studio's import: JSON/JSONL/CSV/TSV/TXT bodies, multipart files or `url=`."""
    return await _import(project_id, request, session, projects, principal)


@router.post(
    "/api/projects/{project_id:int}/tasks/bulk",
    status_code=201,
    response_model=None,
    responses=IMPORT_RESPONSES,
)
async def import_tasks_bulk(
    project_id: int,
    request: Request,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> JSONResponse:
    """The old alias of import."""
    return await _import(project_id, request, session, projects, principal)


@router.get(
    "/api/projects/{project_id:int}/imports/{import_id:int}", response_model=ImportJobAnswer
)
def get_import(
    project_id: int, import_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    """Label Studio Enterprise's import object, which the legacy SDK polls."""
    _project(projects, principal, project_id, access.can_manage_tasks)
    return imports.import_fields(imports.job_for(session, project_id=project_id, job_id=import_id))


@router.get(
    "/api/projects/{project_id:int}/reimports/{reimport_id:int}", response_model=ReimportAnswer
)
def get_reimport(
    project_id: int,
    reimport_id: int,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> dict[str, Any]:
    _project(projects, principal, project_id, access.can_manage_tasks)
    return imports.reimport_fields(
        imports.job_for(session, project_id=project_id, job_id=reimport_id)
    )


@router.post(
    "/api/projects/{project_id:int}/reimport",
    status_code=201,
    response_model=None,
    responses={
        **IMPORT_RESPONSES,
        **documented(ImportResultAnswer, 200),
    },
)
def reimport(
    project_id: int,
    body: ReimportBody,
    request: Request,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> JSONResponse:
    """Import stored uploads again (after `commit_to_project=false`), replacing their tasks."""
    settings, storage = _settings(request)
    project = _project(projects, principal, project_id, access.can_manage_tasks)
    if not body.file_upload_ids:
        return JSONResponse(
            {
                "task_count": 0,
                "annotation_count": 0,
                "prediction_count": 0,
                "duration": 0.0,
                "file_upload_ids": [],
                "could_be_tasks_list": False,
                "found_formats": [],
                "data_columns": [],
            },
            status_code=200,
        )
    found = imports.project_uploads(session, project_id=project_id, ids=body.file_upload_ids)
    known = {upload.id for upload in found}
    unknown = [upload_id for upload_id in body.file_upload_ids if upload_id not in known]
    if unknown:
        raise ValidationFailed(
            {"file_upload_ids": [f"File upload {unknown[0]} is not in this project."]}
        )
    options = _options(request)
    options.commit_to_project = True
    options.replace_file_upload_ids = [upload.id for upload in found]
    options.files_as_tasks_list = body.files_as_tasks_list
    sources = [
        imports.Source(
            path=upload.file,
            filename=PurePosixPath(upload.file).name.split("-", 1)[-1],
            file_upload_id=upload.id,
        )
        for upload in found
    ]
    received = Received(size=sum(upload.size for upload in found))
    with storage_reachable():
        status, answer = _start_import(
            session,
            project=project,
            principal=principal,
            received=received,
            options=options,
            settings=settings,
            storage=storage,
            request_key=None,
            sources=sources,
        )
    return JSONResponse(answer, status_code=status)


@router.post(
    "/api/projects/{project_id:int}/import/predictions",
    status_code=201,
    response_model=PredictionsImportedAnswer,
)
async def import_predictions(
    project_id: int,
    request: Request,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> dict[str, Any]:
    """`[{task, result, score?, model_version?}, ...]` → `{"created": n}`; all or nothing."""
    settings, storage = _settings(request)
    project = await run_in_threadpool(
        _project, projects, principal, project_id, access.can_manage_tasks
    )
    check_length(request, settings)
    path = uploads.new_body_path(".json")
    try:
        with storage_reachable():
            await uploads.spool_stream(
                storage, path, request.stream(), max_bytes=settings.import_max_bytes
            )
            created = await run_in_threadpool(
                _import_predictions, session, project, storage, path, settings.import_batch_size
            )
    finally:
        await uploads.run_cleanup(uploads.remove, storage, path)
    return {"created": created}


def _import_predictions(
    session: Session, project: ProjectInfo, storage: ArtifactStorage, path: str, batch_size: int
) -> int:
    try:
        with uploads.open_stored(storage, path) as stream:
            created = imports.import_predictions(
                session,
                project=project,
                items=imports.iter_json_values(stream),
                batch_size=batch_size,
            )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return created


def _ids_param(request: Request) -> list[int] | None:
    values = request.query_params.getlist("ids")
    if not values:
        return None
    return parse_int_list(values, field="ids")


@router.get("/api/projects/{project_id:int}/file-uploads", response_model=list[FileUploadAnswer])
def list_file_uploads(
    project_id: int,
    request: Request,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> list[dict[str, Any]]:
    """`?ids=[1,2]` or `?all=true`; neither lists nothing (Label Studio's behaviour)."""
    _project(projects, principal, project_id, access.can_manage_tasks)
    every = parse_bool(request.query_params.get("all"), field="all", default=False)
    ids = _ids_param(request)
    if not every and ids is None:
        return []
    found = imports.project_uploads(session, project_id=project_id, ids=None if every else ids)
    return [imports.upload_fields(upload) for upload in found]


@router.delete(
    "/api/projects/{project_id:int}/file-uploads", response_model=FileUploadsDeletedAnswer
)
def delete_file_uploads(
    project_id: int,
    request: Request,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    body: FileUploadsDelete | None = None,
) -> dict[str, Any]:
    """Forget uploads (all, or `file_upload_ids`); their tasks stay. → `{"deleted": n}`."""
    _, storage = _settings(request)
    _project(projects, principal, project_id, access.can_manage_tasks)
    ids = body.file_upload_ids if body is not None else None
    found = imports.project_uploads(session, project_id=project_id, ids=ids)
    files = imports.delete_uploads(session, uploads_=found)
    session.commit()
    discard(storage, files)
    return {"deleted": len(found)}


def _upload_for(
    session: Session, projects: ProjectDirectory, principal: Principal, upload_id: int
) -> FileUpload:
    upload = session.get(FileUpload, upload_id)
    if upload is None:
        raise NotFound()
    _project(projects, principal, upload.project_id, access.can_manage_tasks)
    return upload


@router.get("/api/import/file-upload/{upload_id:int}", response_model=FileUploadAnswer)
def get_file_upload(
    upload_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    return imports.upload_fields(_upload_for(session, projects, principal, upload_id))


@router.patch("/api/import/file-upload/{upload_id:int}", response_model=FileUploadAnswer)
async def replace_file_upload(
    upload_id: int, request: Request, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    """New content for an upload: one file (multipart `file`) or a raw JSON/CSV/... body."""
    settings, storage = _settings(request)
    upload = await run_in_threadpool(_upload_for, session, projects, principal, upload_id)
    check_length(request, settings)
    with storage_reachable():
        received = await receive_body(
            request, settings, storage, keep_body=True, project_id=upload.project_id
        )
    if len(received.uploads) != 1:
        await run_in_threadpool(discard, storage, received.all_paths())
        raise ValidationFailed({"file": ["Send exactly one file."]})
    path, _, size = received.uploads[0]

    def replace() -> dict[str, Any]:
        old = imports.replace_upload_file(session, upload=upload, path=path, size=size)
        session.commit()
        discard(storage, [old])
        return imports.upload_fields(upload)

    return await run_in_threadpool(replace)


@router.delete("/api/import/file-upload/{upload_id:int}", status_code=204)
def delete_file_upload(
    upload_id: int, request: Request, session: DbSession, projects: Projects, principal: CurrentUser
) -> Response:
    _, storage = _settings(request)
    upload = _upload_for(session, projects, principal, upload_id)
    files = imports.delete_uploads(session, uploads_=[upload])
    session.commit()
    discard(storage, files)
    return Response(status_code=204)


def _serve(
    request: Request,
    session: Session,
    projects: ProjectDirectory,
    principal: Principal,
    project_id: int,
    filename: str,
) -> Response:
    """An uploaded file that has a FileUpload row, to members of its project's organization.

    On local disk: the file itself (with Range). In an object store: a 302 to a presigned
    URL (the store answers Range), or, when the credentials cannot sign, the bytes streamed
    through this service (whole, without Range).
    """
    settings, storage = _settings(request)
    _project(projects, principal, project_id, access.can_view_tasks)
    if (
        not filename
        or filename in (".", "..")
        or any(char in filename for char in ("/", "\\", "\x00"))
    ):
        raise NotFound()
    relative = f"{uploads.UPLOAD_DIR}/{project_id}/{filename}"
    if imports.find_upload_by_file(session, project_id=project_id, relative=relative) is None:
        raise NotFound()
    try:
        with storage_reachable():
            if isinstance(storage, LocalArtifactStorage):
                path = storage.path(relative)
                if not path.is_file():
                    raise NotFound()
                return FileResponse(path, headers=_FILE_HEADERS)
            url = storage.presigned_url(
                relative, expires_seconds=settings.upload_url_expires_seconds
            )
            if url is not None:
                return RedirectResponse(url, status_code=302)
            chunks = storage.read(relative)
    except (ValueError, FileNotFoundError):
        raise NotFound() from None
    media_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return StreamingResponse(chunks, media_type=media_type, headers=_FILE_HEADERS)


@router.get(
    "/data/upload/{project_id:int}/{filename}",
    response_class=Response,
    responses=UPLOADED_FILE_RESPONSES,
)
def serve_upload(
    project_id: int,
    filename: str,
    request: Request,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> Response:
    return _serve(request, session, projects, principal, project_id, filename)


@router.get("/storage-data/uploaded", response_class=Response, responses=UPLOADED_FILE_RESPONSES)
def serve_upload_by_path(
    request: Request,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    filepath: str = "",
) -> Response:
    """The proxy form the SDK and ML tools try first: `?filepath=upload/<project>/<file>`."""
    match = _UPLOAD_FILEPATH.match(filepath.lstrip("/"))
    if match is None:
        raise NotFound()
    return _serve(request, session, projects, principal, int(match.group(1)), match.group(2))

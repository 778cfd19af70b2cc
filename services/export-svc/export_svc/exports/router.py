"""Label Studio's export endpoints (thin): formats, the synchronous download, snapshots."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request, Response
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from labelops_common.audit import record_audit, values_summary
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import project_for
from labelops_common.directory import ProjectInfo, UserDirectory
from labelops_common.http.params import parse_bool, parse_int_list
from labelops_common.http.routing import ApiRouter

from export_svc.artifacts import ArtifactStorage, LocalArtifactStorage
from export_svc.dependencies import (
    Artifacts,
    DbSession,
    ExportSettings,
    Media,
    People,
    Projects,
    Storages,
    Tasks,
)
from export_svc.exports import jobs, policies
from export_svc.exports import service as exports
from export_svc.exports.models import Export
from export_svc.exports.schemas import (
    ConversionAnswer,
    ExportAnswer,
    ExportConvert,
    ExportCreate,
    ExportCreatedAnswer,
    ExportFormatAnswer,
    created_export_fields,
    export_fields,
    file_responses,
)
from export_svc.formats import ExportFormat
from export_svc.settings import Settings
from export_svc.tasks.stream import TaskSelection

router = ApiRouter(tags=["exports"])

#: The download routes stream a file; the documents list each format's media type.
FILE_RESPONSES = file_responses()


def _attachment(
    chunks: Iterator[bytes], export_format: ExportFormat, filename: str
) -> StreamingResponse:
    return StreamingResponse(
        chunks,
        media_type=export_format.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "filename": filename,
        },
    )


def _export_type(request: Request) -> tuple[str, str]:
    """`exportType` (or Label Studio's alias `export_type`), default JSON, with the field name."""
    for field in ("exportType", "export_type"):
        value = request.query_params.get(field)
        if value:
            return value.strip(), field
    return "JSON", "exportType"


def _body(
    session: DbSession, people: UserDirectory, project: ProjectInfo, export: Export
) -> ExportAnswer:
    names = people.describe(project.organization_id, [export.created_by_id])
    return export_fields(
        export,
        created_by=names.get(export.created_by_id) if export.created_by_id else None,
        converted=exports.converted_formats(session, [export.id])[export.id],
    )


@router.get(
    "/api/projects/{project_id:int}/export/formats",
    response_model=list[ExportFormatAnswer],
    response_model_exclude_unset=True,
)
def list_formats(
    project_id: int, projects: Projects, principal: CurrentUser
) -> list[ExportFormatAnswer]:
    project = project_for(projects, principal, project_id, policies.can_list_formats)
    return [ExportFormatAnswer.model_validate(entry) for entry in exports.formats_for(project)]


@router.get(
    "/api/projects/{project_id:int}/export",
    response_class=StreamingResponse,
    responses=FILE_RESPONSES,
)
def download_export(
    project_id: int,
    request: Request,
    projects: Projects,
    people: People,
    tasks: Tasks,
    media: Media,
    principal: CurrentUser,
) -> StreamingResponse:
    """Streams the whole export while task-svc streams the tasks (Label Studio's easy export).

    A format that fetches media (`*_WITH_IMAGES`, or VOC, ASR_MANIFEST and DOCLANG with
    `download_resources`, true by default as in Label Studio) is written whole first."""
    project = project_for(projects, principal, project_id, policies.can_export)
    name, field = _export_type(request)
    export_format = exports.resolve_format(name, project, field=field)
    query = request.query_params
    download_all = parse_bool(
        query.get("download_all_tasks"), field="download_all_tasks", default=False
    )
    download_resources = parse_bool(
        query.get("download_resources"), field="download_resources", default=True
    )
    ids = parse_int_list(query.getlist("ids[]") + query.getlist("ids"), field="ids")
    selection = TaskSelection(
        project_id=project.id, only_annotated=not download_all, task_ids=tuple(ids)
    )
    chunks = exports.stream_export(
        source=tasks,
        people=people,
        project=project,
        export_format=export_format,
        selection=selection,
        media=media,
        download_resources=download_resources,
    )
    return _attachment(
        chunks, export_format, exports.download_name(project.id, export_format.extension)
    )


@router.get(
    "/api/projects/{project_id:int}/exports",
    response_model=list[ExportAnswer],
    response_model_exclude_unset=True,
)
def list_snapshots(
    project_id: int,
    session: DbSession,
    projects: Projects,
    people: People,
    settings: ExportSettings,
    principal: CurrentUser,
) -> list[ExportAnswer]:
    project = project_for(projects, principal, project_id, policies.can_export)
    found = exports.list_exports(session, project_id=project.id, limit=settings.snapshot_list_limit)
    names = people.describe(project.organization_id, [e.created_by_id for e in found])
    converted = exports.converted_formats(session, [e.id for e in found])
    return [
        export_fields(
            export,
            created_by=names.get(export.created_by_id) if export.created_by_id else None,
            converted=converted[export.id],
        )
        for export in found
    ]


@router.post(
    "/api/projects/{project_id:int}/exports",
    status_code=201,
    response_model=ExportCreatedAnswer,
    response_model_exclude_unset=True,
)
def create_snapshot(
    project_id: int,
    body: ExportCreate,
    session: DbSession,
    projects: Projects,
    people: People,
    storages: Storages,
    principal: CurrentUser,
) -> ExportCreatedAnswer:
    """201 at once with status `created`; the `exports` queue writes the file.

    With `target_storage_id` (LabelOps' extension), the finished file is also written to
    that export storage of the project; the snapshot's `target_storage` tells how it went."""
    project = project_for(projects, principal, project_id, policies.can_export)
    target = (
        exports.check_target(storages, project=project, storage_id=body.target_storage_id)
        if body.target_storage_id is not None
        else None
    )
    export = exports.create_export(
        session, project=project, principal=principal, body=body, target_storage_id=target
    )
    jobs.write_snapshot.enqueue_after_commit(session, export.id)
    record_audit(
        session,
        principal,
        "export.created",
        ("export", export.id),
        project_id=project.id,
        changes=values_summary(
            {"title": export.title, "target_storage_id": target, "task_filter": None}
        ),
    )
    session.commit()
    names = people.describe(project.organization_id, [principal.user_id])
    return created_export_fields(export, created_by=names.get(principal.user_id))


@router.get(
    "/api/projects/{project_id:int}/exports/{export_id:int}",
    response_model=ExportAnswer,
    response_model_exclude_unset=True,
)
def get_snapshot(
    project_id: int,
    export_id: int,
    session: DbSession,
    projects: Projects,
    people: People,
    principal: CurrentUser,
) -> ExportAnswer:
    project = project_for(projects, principal, project_id, policies.can_export)
    export = exports.get_export(session, project_id=project.id, export_id=export_id)
    return _body(session, people, project, export)


@router.delete("/api/projects/{project_id:int}/exports/{export_id:int}", status_code=204)
def delete_snapshot(
    project_id: int,
    export_id: int,
    session: DbSession,
    projects: Projects,
    artifacts: Artifacts,
    principal: CurrentUser,
) -> Response:
    project = project_for(projects, principal, project_id, policies.can_export)
    export = exports.get_export(session, project_id=project.id, export_id=export_id)
    record_audit(session, principal, "export.deleted", ("export", export.id), project_id=project.id)
    exports.delete_export(session, storage=artifacts, export=export)
    return Response(status_code=204)


@router.get(
    "/api/projects/{project_id:int}/exports/{export_id:int}/download",
    response_class=StreamingResponse,
    responses={
        **FILE_RESPONSES,
        206: {"description": "The byte range asked for (`Range`), from a file on local disk."},
        307: {"description": "A presigned URL of the file in the object store."},
    },
)
def download_snapshot(
    project_id: int,
    export_id: int,
    request: Request,
    session: DbSession,
    projects: Projects,
    artifacts: Artifacts,
    settings: ExportSettings,
    media: Media,
    principal: CurrentUser,
) -> Response:
    project = project_for(projects, principal, project_id, policies.can_export)
    export = exports.get_export(session, project_id=project.id, export_id=export_id)
    name, field = _export_type(request)
    export_format = exports.resolve_format(name, project, field=field)
    download_resources = parse_bool(
        request.query_params.get("download_resources"),
        field="download_resources",
        default=exports.snapshot_downloads_resources(export),
    )
    found = exports.download_snapshot(
        session,
        storage=artifacts,
        project=project,
        export=export,
        export_format=export_format,
        media=media,
        download_resources=download_resources,
    )
    filename = exports.download_name(project.id, export_format.extension, tag=export.md5 or None)
    if isinstance(found, exports.StoredFile):
        return _stored_file(found, artifacts, settings, export_format, filename)
    return _attachment(found, export_format, filename)


def _stored_file(
    found: exports.StoredFile,
    artifacts: ArtifactStorage,
    settings: Settings,
    export_format: ExportFormat,
    filename: str,
) -> Response:
    """A file as stored: from local disk with `Content-Length` and byte ranges; from an
    object store by a redirect to a presigned URL (which serves ranges itself) when the
    store can sign, else streamed through."""
    if isinstance(artifacts, LocalArtifactStorage):
        return FileResponse(
            artifacts.path(found.key),
            media_type=export_format.media_type,
            filename=filename,
            headers={"filename": filename},
        )
    if settings.presigned_download_seconds:
        url = artifacts.presigned_url(
            found.key, expires_seconds=settings.presigned_download_seconds, filename=filename
        )
        if url is not None:
            return RedirectResponse(url, status_code=307)
    return _attachment(artifacts.read(found.key), export_format, filename)


@router.post(
    "/api/projects/{project_id:int}/exports/{export_id:int}/cancel",
    response_model=ExportAnswer,
    response_model_exclude_unset=True,
)
def cancel_snapshot(
    project_id: int,
    export_id: int,
    session: DbSession,
    projects: Projects,
    people: People,
    principal: CurrentUser,
) -> ExportAnswer:
    """Stops a queued or running snapshot (LabelOps' addition); its job aborts the upload."""
    project = project_for(projects, principal, project_id, policies.can_export)
    export = exports.get_export(session, project_id=project.id, export_id=export_id)
    exports.cancel_export(session, export=export)
    # The cancel commits on its own (`cancel_job`, which also commits when it refuses), so
    # the entry follows the successful cancel in a transaction of its own.
    record_audit(
        session, principal, "export.cancelled", ("export", export.id), project_id=project.id
    )
    session.commit()
    return _body(session, people, project, export)


@router.post(
    "/api/projects/{project_id:int}/exports/{export_id:int}/convert",
    response_model=ConversionAnswer,
)
def convert_snapshot(
    project_id: int,
    export_id: int,
    body: ExportConvert,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> ConversionAnswer:
    project = project_for(projects, principal, project_id, policies.can_export)
    export = exports.get_export(session, project_id=project.id, export_id=export_id)
    export_format = exports.resolve_format(body.export_type, project, field="export_type")
    converted = exports.request_conversion(
        session,
        export=export,
        export_format=export_format,
        download_resources=body.download_resources,
    )
    jobs.convert_snapshot.enqueue_after_commit(session, converted.id)
    record_audit(
        session,
        principal,
        "export.converted",
        ("export", export.id),
        project_id=project.id,
        changes={"export_type": {"old": None, "new": converted.export_type}},
    )
    session.commit()
    return ConversionAnswer(export_type=converted.export_type, converted_format=converted.id)

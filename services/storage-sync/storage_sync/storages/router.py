"""Label Studio's storage endpoints (thin): `/api/storages/<type>/...` for import storages
and `/api/storages/export/<type>/...` for export storages, one set per storage type.

The routes of each type are made from its request and answer models, so the OpenAPI
document lists every type's fields. (No `from __future__ import annotations` here: the
handlers' annotations are the models made in the loop, read by FastAPI at run time.)
"""

from typing import Any

from fastapi import Request, Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import project_for
from labelops_common.auth.principal import Principal
from labelops_common.http.errors import ValidationFailed
from labelops_common.http.params import parse_bool, parse_optional_int
from labelops_common.http.routing import ApiRouter
from pydantic import BaseModel

from storage_sync.audit import service as audit
from storage_sync.backends import STORAGE_TYPES, StorageType
from storage_sync.dependencies import Box, Connect, DbSession, Projects
from storage_sync.storages import policies
from storage_sync.storages import service as storages
from storage_sync.storages.models import EXPORT, IMPORT, Storage
from storage_sync.storages.schemas import (
    AnyStorageAnswer,
    StorageTypeAnswer,
    answer_model,
    request_model,
    storage_fields,
)
from storage_sync.sync import jobs

router = ApiRouter(tags=["storages"])


def _answer(storage: Storage, box: Any) -> dict[str, Any]:
    return storage_fields(storage, secret_names=set(box.open(storage.secrets)))


def _project_param(request: Request) -> int | None:
    raw = request.query_params.get("project")
    return parse_optional_int(raw, field="project") if raw else None


def _managed(projects: Projects, principal: Principal, project_id: int | None) -> Any:
    if project_id is None:
        raise ValidationFailed({"project": ["This field is required."]})
    return project_for(projects, principal, project_id, policies.can_manage_storages)


def _base(direction: str) -> str:
    return "/api/storages" if direction == IMPORT else "/api/storages/export"


@router.get("/api/storages/types", response_model=list[StorageTypeAnswer])
def list_import_types(principal: CurrentUser) -> list[StorageTypeAnswer]:
    """Any signed-in member (the catalogue is the same for everyone), never anonymous."""
    return [StorageTypeAnswer(name=k.name, title=k.title) for k in STORAGE_TYPES.values()]


@router.get("/api/storages/export/types", response_model=list[StorageTypeAnswer])
def list_export_types(principal: CurrentUser) -> list[StorageTypeAnswer]:
    return [StorageTypeAnswer(name=k.name, title=k.title) for k in STORAGE_TYPES.values()]


def _list_all(direction: str) -> Any:
    def list_all(
        request: Request, session: DbSession, projects: Projects, box: Box, principal: CurrentUser
    ) -> list[dict[str, Any]]:
        project = _managed(projects, principal, _project_param(request))
        found = storages.list_storages(session, project_id=project.id, direction=direction)
        return [_answer(storage, box) for storage in found]

    list_all.__name__ = f"list_{direction}_storages"
    return list_all


router.add_api_route(
    "/api/storages",
    _list_all(IMPORT),
    methods=["GET"],
    response_model=list[AnyStorageAnswer],
    summary="List the project's import storages of every type",
)
router.add_api_route(
    "/api/storages/export",
    _list_all(EXPORT),
    methods=["GET"],
    response_model=list[AnyStorageAnswer],
    summary="List the project's export storages of every type",
)


def _routes(kind: type[StorageType], direction: str) -> None:
    base = f"{_base(direction)}/{kind.name}"
    Body: type[BaseModel] = request_model(kind.name, direction)
    Answer: type[BaseModel] = answer_model(kind.name, direction)
    label = f"{kind.name}_{direction}"

    def list_storages(
        request: Request, session: DbSession, projects: Projects, box: Box, principal: CurrentUser
    ) -> list[dict[str, Any]]:
        project = _managed(projects, principal, _project_param(request))
        found = storages.list_storages(
            session, project_id=project.id, direction=direction, kind=kind.name
        )
        return [_answer(storage, box) for storage in found]

    def create_storage(
        body: Body,  # type: ignore[valid-type]
        request: Request,
        session: DbSession,
        projects: Projects,
        box: Box,
        connect: Connect,
        principal: CurrentUser,
    ) -> dict[str, Any]:
        project = _managed(projects, principal, body.project or _project_param(request))  # type: ignore[attr-defined]
        storage = storages.create_storage(
            session,
            kind=kind,
            direction=direction,
            project=project,
            body=body,
            box=box,
            context=connect,
        )
        audit.storage_created(session, principal, storage)
        session.commit()
        return _answer(storage, box)

    def validate_storage(
        body: Body,  # type: ignore[valid-type]
        request: Request,
        session: DbSession,
        projects: Projects,
        box: Box,
        connect: Connect,
        principal: CurrentUser,
    ) -> Response:
        project_id = body.project or _project_param(request)  # type: ignore[attr-defined]
        project = _managed(projects, principal, project_id)
        storages.validate_connection(
            session,
            kind=kind,
            direction=direction,
            project=project,
            body=body,
            box=box,
            context=connect,
        )
        return Response(status_code=200)

    def _owned(
        session: DbSession, projects: Projects, principal: Principal, storage_id: int
    ) -> Storage:
        storage = storages.get_storage(
            session,
            storage_id=storage_id,
            kind=kind.name,
            direction=direction,
            organization_id=principal.organization_id,
        )
        project_for(projects, principal, storage.project_id, policies.can_manage_storages)
        return storage

    def get_storage(
        storage_id: int, session: DbSession, projects: Projects, box: Box, principal: CurrentUser
    ) -> dict[str, Any]:
        return _answer(_owned(session, projects, principal, storage_id), box)

    def update_storage(
        storage_id: int,
        body: Body,  # type: ignore[valid-type]
        session: DbSession,
        projects: Projects,
        box: Box,
        connect: Connect,
        principal: CurrentUser,
    ) -> dict[str, Any]:
        storage = _owned(session, projects, principal, storage_id)
        before = audit.storage_state(storage)
        storages.update_storage(session, storage=storage, body=body, box=box, context=connect)
        audit.storage_updated(session, principal, storage, before=before)
        session.commit()
        return _answer(storage, box)

    def delete_storage(
        storage_id: int, session: DbSession, projects: Projects, principal: CurrentUser
    ) -> Response:
        storage = _owned(session, projects, principal, storage_id)
        audit.storage_deleted(session, principal, storage)
        storages.delete_storage(session, storage=storage)
        session.commit()
        return Response(status_code=204)

    def sync_storage(
        storage_id: int,
        request: Request,
        session: DbSession,
        projects: Projects,
        box: Box,
        principal: CurrentUser,
    ) -> dict[str, Any]:
        """Queue a sync (or join the one queued or running) and answer the storage;
        `?full=true` lists the whole storage instead of what follows its checkpoint."""
        storage = _owned(session, projects, principal, storage_id)
        if not storage.synchronizable:
            raise ValidationFailed({"synchronizable": ["This storage is not synchronizable."]})
        full = parse_bool(request.query_params.get("full"), field="full", default=False)
        job, created = storages.request_sync(session, storage=storage, full=full)
        if created:
            jobs.sync_storage.enqueue_after_commit(session, job.id)
        audit.storage_sync_requested(session, principal, storage, full=full, job_id=job.id)
        session.commit()
        return _answer(storage, box)

    routes: list[tuple[str, Any, str, dict[str, Any]]] = [
        (base, list_storages, "GET", {"response_model": list[Answer]}),  # type: ignore[valid-type]
        (base, create_storage, "POST", {"response_model": Answer, "status_code": 201}),
        (f"{base}/validate", validate_storage, "POST", {"response_class": Response}),
        (f"{base}/{{storage_id:int}}", get_storage, "GET", {"response_model": Answer}),
        (f"{base}/{{storage_id:int}}", update_storage, "PATCH", {"response_model": Answer}),
        (f"{base}/{{storage_id:int}}", delete_storage, "DELETE", {"status_code": 204}),
        (f"{base}/{{storage_id:int}}/sync", sync_storage, "POST", {"response_model": Answer}),
    ]
    for path, handler, method, options in routes:
        handler.__name__ = f"{handler.__name__}_{label}"
        router.add_api_route(
            path,
            handler,
            methods=[method],
            operation_id=f"{handler.__name__}",
            **options,
        )


for _kind in STORAGE_TYPES.values():
    for _direction in (IMPORT, EXPORT):
        _routes(_kind, _direction)

"""Label Studio's `/api/ml` connection endpoints (thin): list, create, get, patch, delete,
versions. Predictions (interactive, test, jobs) and training have their own routers."""

from __future__ import annotations

from fastapi import Request, Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import project_for
from labelops_common.http.errors import NotFound
from labelops_common.http.params import parse_bool, parse_optional_int
from labelops_common.http.routing import ApiRouter

from ml_gateway.audit import service as audit
from ml_gateway.backends import policies
from ml_gateway.backends import service as backends
from ml_gateway.backends.schemas import (
    MLBackendAnswer,
    MLBackendCreate,
    MLBackendUpdate,
    VersionsAnswer,
    backend_fields,
)
from ml_gateway.dependencies import Backends, DbSession, Projects

router = ApiRouter(tags=["ml"])


@router.get("/api/ml", response_model=list[MLBackendAnswer])
def list_backends(
    request: Request, session: DbSession, projects: Projects, principal: CurrentUser
) -> list[MLBackendAnswer]:
    """A project's backends with their last known state (refreshed on a schedule, so a
    dead backend never slows this list down)."""
    query = request.query_params
    project_id = parse_optional_int(query.get("project"), field="project")
    if project_id is None:
        # Label Studio answers a missing project with 404.
        raise NotFound(
            "Project id is required", validation_errors={"project": ["This field is required."]}
        )
    project = project_for(projects, principal, project_id, policies.can_view_backends)
    interactive = query.get("is_interactive")
    found = backends.list_backends(
        session,
        project_id=project.id,
        is_interactive=None
        if interactive is None
        else parse_bool(interactive, field="is_interactive", default=False),
    )
    return [backend_fields(backend) for backend in found]


@router.post("/api/ml", status_code=201, response_model=MLBackendAnswer)
def create_backend(
    body: MLBackendCreate,
    session: DbSession,
    projects: Projects,
    client: Backends,
    principal: CurrentUser,
) -> MLBackendAnswer:
    """Calls the backend's `/health` and `/setup` first: 400 with the reason if it fails,
    403 if the outbound address policy refuses the URL; nothing is saved then."""
    project = project_for(projects, principal, body.project, policies.can_manage_backends)
    backend = backends.create_backend(session, client=client, project=project, body=body)
    audit.backend_created(session, principal, backend)
    session.commit()
    return backend_fields(backend)


@router.get("/api/ml/{backend_id:int}", response_model=MLBackendAnswer)
def get_backend(
    backend_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> MLBackendAnswer:
    backend, _ = backends.backend_for(
        session, projects, principal, backend_id, policies.can_view_backends
    )
    return backend_fields(backend)


@router.patch("/api/ml/{backend_id:int}", response_model=MLBackendAnswer)
def update_backend(
    backend_id: int,
    body: MLBackendUpdate,
    session: DbSession,
    projects: Projects,
    client: Backends,
    principal: CurrentUser,
) -> MLBackendAnswer:
    backend, project = backends.backend_for(
        session, projects, principal, backend_id, policies.can_manage_backends
    )
    before = audit.backend_state(backend)
    backends.update_backend(session, client=client, project=project, backend=backend, body=body)
    audit.backend_updated(session, principal, backend, before=before)
    session.commit()
    return backend_fields(backend)


@router.delete("/api/ml/{backend_id:int}", status_code=204)
def delete_backend(
    backend_id: int,
    session: DbSession,
    projects: Projects,
    client: Backends,
    principal: CurrentUser,
) -> Response:
    backend, _ = backends.backend_for(
        session, projects, principal, backend_id, policies.can_manage_backends
    )
    audit.backend_deleted(session, principal, backend)
    backends.delete_backend(session, client=client, backend=backend)
    session.commit()
    return Response(status_code=204)


@router.get("/api/ml/{backend_id:int}/versions", response_model=VersionsAnswer)
def list_versions(
    backend_id: int,
    session: DbSession,
    projects: Projects,
    client: Backends,
    principal: CurrentUser,
) -> VersionsAnswer:
    backend, project = backends.backend_for(
        session, projects, principal, backend_id, policies.can_view_backends
    )
    return backends.model_versions(client, backend=backend, project=project)

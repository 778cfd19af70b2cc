"""Label Studio's `/api/ml` endpoints (thin): connections, train, test, interactive, versions."""

from __future__ import annotations

from fastapi import Request, Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import Policy, project_for
from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import ApiError, NotFound, ValidationFailed
from labelops_common.http.params import parse_bool, parse_optional_int
from labelops_common.http.routing import ApiRouter

from ml_gateway.backends import policies
from ml_gateway.backends import service as backends
from ml_gateway.backends.models import MLBackend
from ml_gateway.backends.schemas import (
    InteractiveAnswer,
    InteractiveRequest,
    MLBackendAnswer,
    MLBackendCreate,
    MLBackendUpdate,
    TestPredictAnswer,
    VersionsAnswer,
    backend_fields,
)
from ml_gateway.dependencies import Backends, DbSession, Projects, Tasks
from ml_gateway.predictions import service as predictions
from ml_gateway.predictions.schemas import PredictionJobAnswer, prediction_job_fields

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
    session.commit()
    return backend_fields(backend)


class RandomRequired(ApiError):
    """Label Studio tests only on a random task; anything else is not implemented."""

    status_code = 501
    default_detail = "Only random=true is supported"


def _backend(
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    backend_id: int,
    policy: Policy,
) -> tuple[MLBackend, ProjectInfo]:
    backend = backends.get_backend(
        session, backend_id=backend_id, organization_id=principal.organization_id
    )
    project = project_for(projects, principal, backend.project_id, policy)
    return backend, project


@router.get("/api/ml/{backend_id:int}", response_model=MLBackendAnswer)
def get_backend(
    backend_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> MLBackendAnswer:
    backend, _ = _backend(session, projects, principal, backend_id, policies.can_view_backends)
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
    backend, project = _backend(
        session, projects, principal, backend_id, policies.can_manage_backends
    )
    backends.update_backend(session, client=client, project=project, backend=backend, body=body)
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
    backend, _ = _backend(session, projects, principal, backend_id, policies.can_manage_backends)
    backends.delete_backend(session, client=client, backend=backend)
    session.commit()
    return Response(status_code=204)


@router.post("/api/ml/{backend_id:int}/interactive-annotating", response_model=InteractiveAnswer)
def interactive_annotating(
    backend_id: int,
    body: InteractiveRequest,
    session: DbSession,
    projects: Projects,
    client: Backends,
    tasks: Tasks,
    principal: CurrentUser,
) -> InteractiveAnswer:
    """Passed through to `/predict` with the context, within the short interactive timeout;
    a slow or failing backend gives `{"errors": [...]}` at once, never a hung request."""
    backend, project = _backend(
        session, projects, principal, backend_id, policies.can_use_interactive
    )
    if not backend.is_interactive:
        raise ValidationFailed(
            {"is_interactive": ["This ML backend is not set up for interactive labeling."]}
        )
    endpoint = backends.endpoint_of(backend)
    version = backend.model_version
    session.close()
    return predictions.interactive_prediction(
        client,
        tasks,
        project,
        endpoint,
        task_id=body.task,
        context=body.context,
        default_version=version,
    )


@router.get("/api/ml/{backend_id:int}/versions", response_model=VersionsAnswer)
def list_versions(
    backend_id: int,
    session: DbSession,
    projects: Projects,
    client: Backends,
    principal: CurrentUser,
) -> VersionsAnswer:
    backend, project = _backend(
        session, projects, principal, backend_id, policies.can_view_backends
    )
    return backends.model_versions(client, backend=backend, project=project)


@router.get("/api/ml/{backend_id:int}/jobs", response_model=list[PredictionJobAnswer])
def list_jobs(
    backend_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> list[PredictionJobAnswer]:
    """The backend's latest prediction jobs with their progress (a LabelOps addition)."""
    backend, _ = _backend(session, projects, principal, backend_id, policies.can_view_backends)
    return [
        prediction_job_fields(job)
        for job in predictions.recent_jobs(session, backend_id=backend.id)
    ]


@router.post("/api/ml/{backend_id:int}/predict/test", response_model=TestPredictAnswer)
def test_predict(
    backend_id: int,
    request: Request,
    session: DbSession,
    projects: Projects,
    client: Backends,
    tasks: Tasks,
    principal: CurrentUser,
) -> TestPredictAnswer:
    """The backend's own answer for one random task of the project (500 with the reason if
    the call fails), within the interactive timeout."""
    backend, project = _backend(
        session, projects, principal, backend_id, policies.can_manage_backends
    )
    if not parse_bool(request.query_params.get("random"), field="random", default=False):
        raise RandomRequired()
    endpoint = backends.endpoint_of(backend)
    session.close()
    answer = predictions.test_prediction(client, tasks, project, endpoint)
    return TestPredictAnswer.model_validate(answer)

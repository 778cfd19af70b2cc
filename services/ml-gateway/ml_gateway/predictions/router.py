"""`/api/ml/{id}` prediction endpoints (thin): interactive labeling, a test prediction, and
the backend's prediction jobs (a LabelOps addition showing "Retrieve predictions" progress)."""

from __future__ import annotations

from fastapi import Request
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.http.errors import ApiError, ValidationFailed
from labelops_common.http.params import parse_bool
from labelops_common.http.routing import ApiRouter

from ml_gateway.backends import policies
from ml_gateway.backends import service as backends
from ml_gateway.backends.schemas import InteractiveAnswer, InteractiveRequest, TestPredictAnswer
from ml_gateway.dependencies import Backends, DbSession, Projects, Tasks
from ml_gateway.predictions import service as predictions
from ml_gateway.predictions.schemas import PredictionJobAnswer, prediction_job_fields

router = ApiRouter(tags=["ml"])


class RandomRequired(ApiError):
    """Label Studio tests only on a random task; anything else is not implemented."""

    status_code = 501
    default_detail = "Only random=true is supported"


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
    backend, project = backends.backend_for(
        session, projects, principal, backend_id, policies.can_use_interactive
    )
    if not backend.is_interactive:
        raise ValidationFailed(
            {"is_interactive": ["This ML backend is not set up for interactive labeling."]}
        )
    endpoint = backends.endpoint_of(backend)
    version = backend.model_version
    session.close()  # no connection held while the model runs
    return predictions.interactive_prediction(
        client,
        tasks,
        project,
        endpoint,
        task_id=body.task,
        context=body.context,
        default_version=version,
    )


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
    backend, project = backends.backend_for(
        session, projects, principal, backend_id, policies.can_manage_backends
    )
    if not parse_bool(request.query_params.get("random"), field="random", default=False):
        raise RandomRequired()
    endpoint = backends.endpoint_of(backend)
    session.close()
    answer = predictions.test_prediction(client, tasks, project, endpoint)
    return TestPredictAnswer.model_validate(answer)


@router.get("/api/ml/{backend_id:int}/jobs", response_model=list[PredictionJobAnswer])
def list_prediction_jobs(
    backend_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> list[PredictionJobAnswer]:
    """The backend's latest prediction jobs, newest first, with their progress."""
    backend, _ = backends.backend_for(
        session, projects, principal, backend_id, policies.can_view_backends
    )
    found = predictions.recent_jobs(session, backend_id=backend.id)
    return [prediction_job_fields(job) for job in found]

"""`POST /api/ml/{id}/train` and the backend's training jobs (thin)."""

from __future__ import annotations

from labelops_common.auth.authenticate import CurrentUser
from labelops_common.http.routing import ApiRouter

from ml_gateway.audit import service as audit
from ml_gateway.backends import policies
from ml_gateway.backends import service as backends
from ml_gateway.dependencies import DbSession, Projects
from ml_gateway.training import jobs
from ml_gateway.training import service as training
from ml_gateway.training.schemas import TrainJobAnswer, train_job_fields

router = ApiRouter(tags=["ml"])


@router.post("/api/ml/{backend_id:int}/train", response_model=TrainJobAnswer)
def train(
    backend_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> TrainJobAnswer:
    """Queue START_TRAINING to the backend's `/webhook` and answer at once (Label Studio
    answers 200 once the call returned; the job here shows it, `train-jobs` follows it)."""
    backend, _ = backends.backend_for(
        session, projects, principal, backend_id, policies.can_manage_backends
    )
    job = training.create_train_job(session, backend=backend, requested_by_id=principal.user_id)
    jobs.train_backend.enqueue_after_commit(session, job.id)
    audit.training_requested(session, principal, backend, job_id=job.id)
    session.commit()
    return train_job_fields(job)


@router.get("/api/ml/{backend_id:int}/train-jobs", response_model=list[TrainJobAnswer])
def list_train_jobs(
    backend_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> list[TrainJobAnswer]:
    """The backend's latest training jobs, newest first."""
    backend, _ = backends.backend_for(
        session, projects, principal, backend_id, policies.can_view_backends
    )
    return [
        train_job_fields(job) for job in training.recent_train_jobs(session, backend_id=backend.id)
    ]

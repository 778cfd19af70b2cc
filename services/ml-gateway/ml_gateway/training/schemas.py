"""Training jobs as the API shows them (a LabelOps addition to `/api/ml`)."""

from __future__ import annotations

from typing import Any

from labelops_common.http.answers import Timestamp, timestamp
from pydantic import BaseModel

from ml_gateway.training.models import TrainJob


class TrainJobAnswer(BaseModel):
    id: int
    project: int
    ml_backend: int
    #: START_TRAINING (asked by hand), or the annotation event that triggered it.
    action: str
    #: queued, running, succeeded or failed.
    status: str
    error: str | None
    #: What the backend answered (its `result`, or the legacy `/train`'s `job`).
    response: dict[str, Any] | None
    created_at: Timestamp
    finished_at: Timestamp | None


def train_job_fields(job: TrainJob) -> TrainJobAnswer:
    return TrainJobAnswer(
        id=job.id,
        project=job.project_id,
        ml_backend=job.ml_backend_id,
        action=job.action,
        status=job.status,
        error=job.error,
        response=job.response,
        created_at=timestamp(job.created_at) or "",
        finished_at=timestamp(job.finished_at),
    )

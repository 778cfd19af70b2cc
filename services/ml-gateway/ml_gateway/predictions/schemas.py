"""Shapes of prediction jobs as the API shows them (a LabelOps addition to `/api/ml`)."""

from __future__ import annotations

from labelops_common.http.answers import Timestamp, timestamp
from pydantic import BaseModel

from ml_gateway.predictions.models import PredictionJob


class PredictionJobAnswer(BaseModel):
    id: int
    project: int
    ml_backend: int
    #: queued, running, succeeded, failed or cancelled.
    status: str
    model_version: str
    total: int | None
    #: Tasks handled so far (predicted + skipped + failed).
    progress: int
    predicted: int
    skipped: int
    failed: int
    #: Why the last task failed, or why the job failed.
    error: str | None
    created_at: Timestamp
    finished_at: Timestamp | None


def prediction_job_fields(job: PredictionJob) -> PredictionJobAnswer:
    return PredictionJobAnswer(
        id=job.id,
        project=job.project_id,
        ml_backend=job.ml_backend_id,
        status=job.status,
        model_version=job.model_version,
        total=job.total,
        progress=job.progress,
        predicted=job.predicted,
        skipped=job.skipped,
        failed=job.failed,
        error=job.error or job.last_error,
        created_at=timestamp(job.created_at) or "",
        finished_at=timestamp(job.finished_at),
    )

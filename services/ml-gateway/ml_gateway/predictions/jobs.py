"""The `ml` queue's prediction jobs: one row each, the message carries its id.

Running twice is harmless: tasks that already hold a prediction of the model version are
skipped, and `run_job` skips a row another worker holds or that is finished.
"""

from __future__ import annotations

import logging

from labelops_common.http.errors import ApiError
from labelops_common.jobs import JobContext, run_job
from labelops_common.queue import labelops_task

from ml_gateway.jobs import MLJobResources
from ml_gateway.predictions import service
from ml_gateway.predictions.models import PredictionJob

logger = logging.getLogger(__name__)


def _run(resources: MLJobResources, context: JobContext) -> None:
    try:
        service.run_prediction_job(
            session_factory=resources.database.new_session,
            client=resources.client,
            tasks=resources.tasks,
            project_for=resources.projects.get,
            context=context,
        )
    except service.PredictionJobFailed as error:
        logger.warning(
            "prediction job failed", extra={"job_id": context.job_id, "reason": str(error)}
        )
        raise
    except Exception:
        # The runner records the error on the row; the traceback is for the operator.
        logger.exception("prediction job crashed", extra={"job_id": context.job_id})
        raise


def _retryable(exc: BaseException) -> bool:
    return not isinstance(exc, service.PredictionJobFailed | ApiError)


@labelops_task(
    name="ml-gateway.predict_tasks",
    queue="ml",
    job_model=PredictionJob,
    resources=MLJobResources,
)
def predict_tasks(resources: MLJobResources, job_id: int) -> str:
    """Claim and run one prediction job; returns the job's final status (or "skipped")."""
    return run_job(
        session_factory=resources.database.new_session,
        model=PredictionJob,
        job_id=job_id,
        body=lambda context: _run(resources, context),
        retryable=_retryable,
    )

"""Training on the `ml` queue, and the annotation events that start it.

A project whose `min_annotations_to_start_training` is N trains each of its backends on
every N-th new annotation: task-svc's ANNOTATION_CREATED / ANNOTATIONS_CREATED /
ANNOTATION_UPDATED events are counted here (once per event, `ProcessedEvent`) and the
N-th queues a training job that sends the event to the backend's `/webhook`.
"""

from __future__ import annotations

import logging

from labelops_common.events import (
    ANNOTATION_CREATED,
    ANNOTATION_UPDATED,
    ANNOTATIONS_CREATED,
    Event,
    event_handler,
)
from labelops_common.jobs import JobContext, resources_of, run_job
from labelops_common.queue import labelops_task
from sqlalchemy.orm import Session

from ml_gateway.jobs import MLJobResources
from ml_gateway.training import service
from ml_gateway.training.models import TrainJob

logger = logging.getLogger(__name__)


@labelops_task(
    name="ml-gateway.train_backend", queue="ml", job_model=TrainJob, resources=MLJobResources
)
def train_backend(resources: MLJobResources, job_id: int) -> str:
    """Claim and run one training call; returns the job's final status (or "skipped")."""
    return run_job(
        session_factory=resources.database.new_session,
        model=TrainJob,
        job_id=job_id,
        body=lambda context: _run(resources, context),
        # A training call is not repeated on its own: the backend may have started it.
        retryable=lambda _exc: False,
    )


def _run(resources: MLJobResources, context: JobContext) -> None:
    try:
        service.run_train_job(
            session_factory=resources.database.new_session,
            client=resources.client,
            tasks=resources.tasks,
            project_for=resources.projects.get,
            context=context,
        )
    except service.TrainJobFailed as error:
        logger.warning("training failed", extra={"job_id": context.job_id, "reason": str(error)})
        raise


@event_handler(ANNOTATION_CREATED, ANNOTATIONS_CREATED, ANNOTATION_UPDATED, consumer="ml-gateway")
def train_on_annotations(event: Event, session: Session) -> None:
    resources = resources_of(MLJobResources, bind=session.get_bind())
    project = resources.projects.get(event.project_id)
    if project is None or project.min_annotations_to_start_training <= 0:
        return
    count = int(event.payload.get("task_count") or event.payload.get("annotation_count") or 1)
    for backend in service.count_new_annotations(session, project=project, count=count):
        job = service.create_train_job(
            session,
            backend=backend,
            action=event.name,
            event={
                "annotation_id": event.payload.get("annotation_id"),
                "task_id": event.payload.get("task_id"),
                "event_id": event.id,
            },
        )
        train_backend.enqueue_after_commit(session, job.id)

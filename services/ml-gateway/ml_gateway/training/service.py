"""Training: ask a backend to train, by hand (`POST /api/ml/{id}/train`) or on annotations.

The protocol's way is `/webhook`: `START_TRAINING` with the project, or the annotation
event itself with the annotation, its task and the project (the reference backend fits on
both). A backend without `/webhook` (404) gets the legacy `/train` with the project's
annotated tasks. While the call runs the backend shows `TR`; afterwards `CO` (and its new
model version, read from `/setup` at once) or `ER` with the reason.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.events import ANNOTATIONS_DELETED, START_TRAINING
from labelops_common.jobs import JobContext
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml_gateway.backends import service as backends
from ml_gateway.backends.models import BackendState, MLBackend
from ml_gateway.backends.protocol import BackendCallFailed, Endpoint, FailureKind, ProtocolClient
from ml_gateway.predictions import jobs as prediction_jobs
from ml_gateway.predictions import service as predictions
from ml_gateway.predictions.tasks import TaskStore, TasksUnavailable
from ml_gateway.training.models import TrainJob

logger = logging.getLogger(__name__)

#: Label Studio's name of the active learning sampling.
UNCERTAINTY_SAMPLING = "Uncertainty sampling"
#: The largest backend answer a job keeps (characters of its JSON).
MAX_RESPONSE = 4000


class TrainJobFailed(Exception):
    """The backend did not train; the job and the backend show why."""


def create_train_job(
    session: Session,
    *,
    backend: MLBackend,
    action: str = START_TRAINING,
    event: dict[str, Any] | None = None,
    requested_by_id: int | None = None,
) -> TrainJob:
    job = TrainJob(
        kind="train",
        payload=event or {},
        max_attempts=1,
        project_id=backend.project_id,
        ml_backend_id=backend.id,
        action=action,
        requested_by_id=requested_by_id,
    )
    session.add(job)
    session.flush()
    return job


def recent_train_jobs(session: Session, *, backend_id: int, limit: int = 20) -> list[TrainJob]:
    return list(
        session.scalars(
            select(TrainJob)
            .where(TrainJob.ml_backend_id == backend_id)
            .order_by(TrainJob.id.desc())
            .limit(limit)
        )
    )


def count_new_annotations(session: Session, *, project: ProjectInfo, count: int) -> list[MLBackend]:
    """Add `count` new annotations to each backend of the project; the backends whose
    count reached the project's `min_annotations_to_start_training` (reset to 0) are due."""
    every = project.min_annotations_to_start_training
    if every <= 0 or count <= 0:
        return []
    due: list[MLBackend] = []
    for backend in backends.list_backends(session, project_id=project.id):
        backend.annotations_since_training += count
        if backend.annotations_since_training >= every:
            backend.annotations_since_training = 0
            due.append(backend)
    return due


def project_fields(project: ProjectInfo) -> dict[str, Any]:
    """The project as a webhook carries it (the fields a backend reads)."""
    return {
        "id": project.id,
        "title": project.title,
        "label_config": project.label_config,
        "model_version": project.model_version,
        "show_collab_predictions": project.show_collab_predictions,
        "maximum_annotations": project.maximum_annotations,
        "min_annotations_to_start_training": project.min_annotations_to_start_training,
        "created_at_unix": project.created_at_unix,
    }


def webhook_body(
    action: str, project: ProjectInfo, event: dict[str, Any], tasks: TaskStore
) -> dict[str, Any]:
    """The protocol's `/webhook` payload for `action` (Label Studio's webhook shape)."""
    body: dict[str, Any] = {"action": action, "project": project_fields(project)}
    if action == START_TRAINING:
        return body
    if action == ANNOTATIONS_DELETED:
        body["annotations"] = [{"id": i} for i in event.get("annotation_ids", [])]
        return body
    task_id = int(event.get("task_id") or 0)
    found = tasks.tasks(project.id, [task_id]) if task_id else []
    if found:
        task = found[0]
        annotations = task.get("annotations") or []
        wanted = event.get("annotation_id")
        body["annotation"] = next((a for a in annotations if a.get("id") == wanted), None)
        body["task"] = {k: v for k, v in task.items() if k not in ("annotations", "predictions")}
    return body


def legacy_train_body(project: ProjectInfo, tasks: TaskStore) -> dict[str, Any]:
    return {
        "annotations": tasks.annotated_tasks(project.id),
        "project": backends.project_key(project),
        "label_config": project.label_config,
        "params": {"login": None, "password": None},
    }


def _set_state(
    session_factory: Callable[[], Session], backend_id: int, state: BackendState, error: str | None
) -> None:
    with session_factory() as session:
        backend = session.get(MLBackend, backend_id)
        if backend is None:
            return
        backend.state = state.value
        backend.error_message = error
        backend.updated_at = utcnow()
        session.commit()


def run_train_job(
    *,
    session_factory: Callable[[], Session],
    client: ProtocolClient,
    tasks: TaskStore,
    project_for: Callable[[int], ProjectInfo | None],
    context: JobContext,
) -> None:
    with session_factory() as session:
        job = session.get(TrainJob, context.job_id)
        if job is None:
            raise TrainJobFailed("The training job is gone.")
        backend = session.get(MLBackend, job.ml_backend_id)
        if backend is None:
            raise TrainJobFailed("The ML backend was deleted.")
        endpoint = backends.endpoint_of(backend)
        action, event, project_id = job.action, dict(job.payload or {}), job.project_id
    project = project_for(project_id)
    if project is None:
        raise TrainJobFailed("The project no longer exists.")
    _set_state(session_factory, endpoint.backend_id, BackendState.TRAINING, None)
    try:
        body = webhook_body(action, project, event, tasks)
        try:
            answer = client.webhook(endpoint, body, training=True)
        except BackendCallFailed as error:
            if not (error.kind == FailureKind.STATUS and error.status_code == 404):
                raise
            if action != START_TRAINING:
                # A backend without /webhook trains only when asked to.
                answer = {"status": "no /webhook: not trained on this event"}
            else:
                answer = client.train(endpoint, legacy_train_body(project, tasks))
    except (BackendCallFailed, TasksUnavailable) as error:
        reason = error.reason if isinstance(error, BackendCallFailed) else str(error)
        _set_state(
            session_factory, endpoint.backend_id, BackendState.ERROR, f"Training failed: {reason}"
        )
        raise TrainJobFailed(reason) from None
    _set_state(session_factory, endpoint.backend_id, BackendState.CONNECTED, None)
    with session_factory() as session:
        current = session.get(TrainJob, context.job_id)
        if current is not None:
            current.response = _kept(answer)
            session.commit()
    refresh_after_training(session_factory, client, endpoint, project)


def refresh_after_training(
    session_factory: Callable[[], Session],
    client: ProtocolClient,
    endpoint: Endpoint,
    project: ProjectInfo,
) -> None:
    """Read the trained model's version now rather than at the next refresh round. A new
    version on a project that labels by uncertainty makes every task's score stale: a
    prediction job for the whole project renews them (active learning stays meaningful)."""
    connection = backends.check_connection(client, endpoint, project, None)
    if connection.state != BackendState.CONNECTED:
        return
    with session_factory() as session:
        backend = session.get(MLBackend, endpoint.backend_id)
        if backend is None:
            return
        before = backend.model_version
        backends.apply_connection(backend, connection)
        if backend.model_version != before and project.sampling == UNCERTAINTY_SAMPLING:
            job = predictions.create_prediction_job(
                session,
                project_id=project.id,
                backend=backend,
                task_ids=None,
                requested_by_id=None,
            )
            prediction_jobs.predict_tasks.enqueue_after_commit(session, job.id)
        session.commit()


def _kept(answer: Any) -> dict[str, Any] | None:
    if answer is None:
        return None
    text = json.dumps(answer, default=str)
    if len(text) > MAX_RESPONSE:
        return {"truncated": text[:MAX_RESPONSE]}
    return answer if isinstance(answer, dict) else {"answer": answer}

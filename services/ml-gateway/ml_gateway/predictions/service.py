"""Predicting tasks through a backend: one call (for a person waiting) or a queued job.

A job lists its tasks, reads them from task-svc a page at a time, skips those that already
hold a prediction of the backend's current model version (so a re-run after a crash does
no double work), sends the rest to `/predict` in batches of `predict_batch_size`, up to
`backend_concurrency` batches at once, retrying a failed batch with exponential backoff,
checks every returned result against the labeling config and stores the valid ones
through task-svc. A batch that still fails, or a result that does not fit, fails only its
tasks: the job goes on, counts them, and reports the last reason; the backend shows it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import ApiError, NotFound, ValidationFailed
from labelops_common.jobs import JobContext
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ml_gateway.backends import metrics
from ml_gateway.backends import service as backends
from ml_gateway.backends.models import BackendState, MLBackend
from ml_gateway.backends.protocol import BackendCallFailed, Endpoint, FailureKind, ProtocolClient
from ml_gateway.backends.schemas import InteractiveAnswer
from ml_gateway.predictions.models import PredictionJob
from ml_gateway.predictions.results import (
    MalformedAnswer,
    ModelPrediction,
    TaskOutcome,
    answer_items,
    read_answer,
    read_entry,
)
from ml_gateway.predictions.tasks import ID_PAGE, TaskStore, TasksUnavailable

logger = logging.getLogger(__name__)

#: Failures another attempt may cure.
_TRANSIENT = frozenset({FailureKind.TIMEOUT, FailureKind.UNREACHABLE, FailureKind.BUSY})
#: Kept in a job's row: the reasons of its failures, first come.
_MAX_ERROR = 2000


class PredictionJobFailed(Exception):
    """The job cannot run or nothing could be predicted; no retry of the whole job helps."""


# --------------------------------------------------------------------------------------
# One /predict call
# --------------------------------------------------------------------------------------


def predict_body(
    project: ProjectInfo, tasks: Sequence[dict[str, Any]], *, context: Any = None
) -> dict[str, Any]:
    """The protocol's `/predict` request."""
    return {
        "tasks": list(tasks),
        "project": backends.project_key(project),
        "label_config": project.label_config,
        "params": {"login": None, "password": None, "context": context},
    }


def predict_tasks(
    client: ProtocolClient,
    endpoint: Endpoint,
    project: ProjectInfo,
    tasks: Sequence[dict[str, Any]],
    *,
    default_version: str,
    interactive: bool = False,
    context: Any = None,
) -> list[TaskOutcome]:
    """One `/predict` call for `tasks`, every entry checked; BackendCallFailed if the call
    or the answer as a whole failed. One result for several tasks means a backend that
    predicts one task per call: each task is then sent alone, as Label Studio does."""
    answer = client.predict(
        endpoint, predict_body(project, tasks, context=context), interactive=interactive
    )
    task_ids = [int(task["id"]) for task in tasks]
    try:
        return read_answer(
            answer, task_ids=task_ids, project=project, default_version=default_version
        )
    except MalformedAnswer as error:
        single = _single_result(answer)
        if single is not None and len(tasks) > 1:
            outcomes = [
                read_entry(task_ids[0], single, project=project, default_version=default_version)
            ]
            for task in tasks[1:]:
                outcomes.extend(
                    predict_tasks(
                        client,
                        endpoint,
                        project,
                        [task],
                        default_version=default_version,
                        interactive=interactive,
                        context=context,
                    )
                )
            return outcomes
        metrics.PREDICT_ERRORS.labels(endpoint.label).inc()
        raise BackendCallFailed(FailureKind.MALFORMED, f"/predict: {error}") from None


def _single_result(answer: Any) -> Any:
    try:
        return answer_items(answer, expected=1)[0]
    except MalformedAnswer:
        return None


def predict_with_retries(
    client: ProtocolClient,
    endpoint: Endpoint,
    project: ProjectInfo,
    tasks: Sequence[dict[str, Any]],
    *,
    default_version: str,
    sleep: Callable[[float], None] = time.sleep,
) -> list[TaskOutcome]:
    """`predict_tasks` with the settings' attempts and exponential backoff on failures
    another try may cure (timeouts, unreachable, busy, 5xx). Never raises: a batch that
    still fails comes back as every task failed with the reason."""
    settings = client.settings
    failure: BackendCallFailed | None = None  # the last failure of a call that was made
    for attempt in range(1, settings.predict_attempts + 1):
        try:
            return predict_tasks(client, endpoint, project, tasks, default_version=default_version)
        except BackendCallFailed as error:
            if error.kind != FailureKind.CIRCUIT_OPEN:
                failure = error
            transient = error.kind in _TRANSIENT or (
                error.kind == FailureKind.STATUS and (error.status_code or 0) >= 500
            )
            if not transient or attempt == settings.predict_attempts:
                # A retry the open circuit refused reports the failure that came before it.
                reported = failure or error
                return [
                    TaskOutcome(
                        task_id=int(t["id"]),
                        error=reported.reason,
                        circuit_open=reported.kind == FailureKind.CIRCUIT_OPEN,
                    )
                    for t in tasks
                ]
            delay = settings.retry_backoff_seconds * (2 ** (attempt - 1))
            sleep(delay * (0.5 + random.random() / 2))  # noqa: S311 - jitter, not security
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------------------
# Jobs
# --------------------------------------------------------------------------------------


def create_prediction_job(
    session: Session,
    *,
    project_id: int,
    backend: MLBackend,
    task_ids: Sequence[int] | None,
    requested_by_id: int | None,
) -> PredictionJob:
    payload: dict[str, Any] = (
        {"all_tasks": True} if task_ids is None else {"task_ids": sorted(set(task_ids))}
    )
    job = PredictionJob(
        kind="predict",
        payload=payload,
        total=None if task_ids is None else len(payload["task_ids"]),
        max_attempts=3,
        project_id=project_id,
        ml_backend_id=backend.id,
        requested_by_id=requested_by_id,
        model_version=backend.model_version,
    )
    session.add(job)
    session.flush()
    return job


def get_prediction_job(session: Session, *, job_id: int, project_id: int) -> PredictionJob | None:
    job = session.get(PredictionJob, job_id)
    if job is None or (project_id and job.project_id != project_id):
        return None
    return job


def recent_jobs(session: Session, *, backend_id: int, limit: int = 20) -> list[PredictionJob]:
    return list(
        session.scalars(
            select(PredictionJob)
            .where(PredictionJob.ml_backend_id == backend_id)
            .order_by(PredictionJob.id.desc())
            .limit(limit)
        )
    )


@dataclass
class JobTally:
    """A job's running counts, added to from the batch threads."""

    predicted: int = 0
    skipped: int = 0
    failed: int = 0
    last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self,
        *,
        predicted: int = 0,
        skipped: int = 0,
        failed: int = 0,
        error: str | None = None,
        circuit_open: bool = False,
    ) -> None:
        """`circuit_open` marks `error` as the circuit's refusal: it does not replace an
        error already kept, which says why the circuit opened (batches run side by side,
        so the refusal can be counted after the failure that caused it)."""
        with self._lock:
            self.predicted += predicted
            self.skipped += skipped
            self.failed += failed
            if error and not (circuit_open and self.last_error):
                self.last_error = error[:_MAX_ERROR]
        for outcome, count in (("predicted", predicted), ("skipped", skipped), ("failed", failed)):
            if count:
                metrics.PREDICTION_JOB_TASKS.labels(outcome).inc(count)

    @property
    def handled(self) -> int:
        return self.predicted + self.skipped + self.failed


@dataclass(frozen=True)
class PredictionRun:
    """What a prediction job runs with."""

    client: ProtocolClient
    tasks: TaskStore
    project: ProjectInfo
    endpoint: Endpoint
    model_version: str


def _chunks(values: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def _has_version(task: dict[str, Any], version: str) -> bool:
    return bool(version) and any(
        isinstance(p, dict) and p.get("model_version") == version
        for p in task.get("predictions") or []
    )


def predict_and_store(
    run: PredictionRun,
    task_ids: Sequence[int],
    tally: JobTally,
    *,
    on_page: Callable[[], None] = lambda: None,
) -> None:
    """Predict and store `task_ids`, a page at a time; every count goes into `tally`."""
    settings = run.client.settings
    with ThreadPoolExecutor(
        max_workers=settings.backend_concurrency, thread_name_prefix="ml-predict"
    ) as pool:
        for page in _chunks(task_ids, ID_PAGE):
            tasks = run.tasks.tasks(run.project.id, page)
            fresh = [t for t in tasks if not _has_version(t, run.model_version)]
            # Tasks deleted since the job was asked for count as skipped.
            tally.add(skipped=len(page) - len(fresh))
            batches = list(_chunks(fresh, settings.predict_batch_size))
            for outcomes in pool.map(lambda batch: _predict_batch(run, batch), batches):
                _store(run, outcomes, tally)
            on_page()


def _predict_batch(run: PredictionRun, batch: list[dict[str, Any]]) -> list[TaskOutcome]:
    return predict_with_retries(
        run.client, run.endpoint, run.project, batch, default_version=run.model_version
    )


def _store(run: PredictionRun, outcomes: list[TaskOutcome], tally: JobTally) -> None:
    good = [(o.task_id, p) for o in outcomes if o.ok for p in o.predictions]
    failed = [o for o in outcomes if not o.ok]
    if failed:  # one batch: its failures share one cause, or are each a result's own
        tally.add(failed=len(failed), error=failed[-1].error, circuit_open=failed[-1].circuit_open)
    unanswered = sum(1 for o in outcomes if o.ok and not o.predictions)
    if unanswered:
        tally.add(skipped=unanswered)  # the backend had no prediction for them
    if not good:
        return
    try:
        run.tasks.store(run.project.id, good)
    except TasksUnavailable:
        # One task deleted meanwhile refuses the whole request: store them one by one.
        _store_each(run, good, tally)
        return
    tally.add(predicted=len({task_id for task_id, _ in good}))


def _store_each(
    run: PredictionRun, good: list[tuple[int, ModelPrediction]], tally: JobTally
) -> None:
    stored: set[int] = set()
    for task_id, prediction in good:
        try:
            run.tasks.store(run.project.id, [(task_id, prediction)])
        except TasksUnavailable as error:
            logger.info("prediction not stored", extra={"task_id": task_id, "reason": str(error)})
            continue
        stored.add(task_id)
    gone = {task_id for task_id, _ in good} - stored
    tally.add(predicted=len(stored), skipped=len(gone))


def save_tally(session: Session, *, job_id: int, tally: JobTally, total: int | None) -> None:
    values: dict[str, Any] = {
        "predicted": tally.predicted,
        "skipped": tally.skipped,
        "failed": tally.failed,
        "last_error": tally.last_error,
        "progress": tally.handled,
        "updated_at": utcnow(),
    }
    if total is not None:
        values["total"] = total
    session.execute(update(PredictionJob).where(PredictionJob.id == job_id).values(**values))
    session.commit()


def run_prediction_job(
    *,
    session_factory: Callable[[], Session],
    client: ProtocolClient,
    tasks: TaskStore,
    project_for: Callable[[int], ProjectInfo | None],
    context: JobContext,
) -> None:
    """The body of a prediction job (`jobs.predict_tasks`)."""
    with session_factory() as session:
        job = session.get(PredictionJob, context.job_id)
        if job is None:
            raise PredictionJobFailed("The prediction job is gone.")
        backend = session.get(MLBackend, job.ml_backend_id)
        if backend is None:
            raise PredictionJobFailed("The ML backend was deleted.")
        endpoint = backends.endpoint_of(backend)
        model_version = backend.model_version
        job.model_version = model_version
        project_id = job.project_id
        session.commit()
    project = project_for(project_id)
    if project is None:
        raise PredictionJobFailed("The project no longer exists.")
    payload = context.payload
    if payload.get("all_tasks"):
        try:
            task_ids = list(tasks.project_task_ids(project_id))
        except TasksUnavailable as error:
            raise ConnectionError(str(error)) from None
    else:
        task_ids = [int(task_id) for task_id in payload.get("task_ids", [])]
    total = len(task_ids)
    context.report_progress(0, total)
    tally = JobTally()
    run = PredictionRun(
        client=client,
        tasks=tasks,
        project=project,
        endpoint=endpoint,
        model_version=model_version,
    )

    def saved() -> None:
        context.report_progress(tally.handled, total)
        with session_factory() as session:
            save_tally(session, job_id=context.job_id, tally=tally, total=total)

    metrics.PREDICTION_JOBS_RUNNING.inc()
    try:
        predict_and_store(run, task_ids, tally, on_page=saved)
    finally:
        metrics.PREDICTION_JOBS_RUNNING.dec()
        saved()
    with session_factory() as session:
        current = session.get(MLBackend, endpoint.backend_id)
        if current is not None:
            if tally.failed and tally.last_error:
                backends.mark_failure(current, f"Predictions failed: {tally.last_error}")
            elif current.state == BackendState.ERROR.value:
                current.state = BackendState.CONNECTED.value
                current.error_message = None
            session.commit()
    if tally.failed and not tally.predicted:
        raise PredictionJobFailed(
            f"No task could be predicted ({tally.failed} failed): {tally.last_error}"
        )


# --------------------------------------------------------------------------------------
# Calls a person waits on
# --------------------------------------------------------------------------------------


class TestPredictionFailed(ApiError):
    """Label Studio answers a failed test prediction with 500 and the reason."""

    status_code = 500


def interactive_prediction(
    client: ProtocolClient,
    tasks: TaskStore,
    project: ProjectInfo,
    endpoint: Endpoint,
    *,
    task_id: int,
    context: Any,
    default_version: str,
) -> InteractiveAnswer:
    """`/predict` for one task with the editor's context, within the interactive timeout:
    `{"data": <first result>}`, or `{"errors": [...]}` when the backend fails or answers
    something that does not fit the labeling config."""
    timeout = client.settings.interactive_timeout_seconds
    try:
        found = tasks.tasks(project.id, [task_id], timeout=timeout)
    except TasksUnavailable as error:
        return InteractiveAnswer(errors=[str(error)])
    if not found:
        raise NotFound("Task not found", validation_errors={"task": ["Not in this project."]})
    try:
        answer = client.predict(
            endpoint, predict_body(project, found, context=context), interactive=True
        )
        entry = answer_items(answer, expected=1)[0]
    except BackendCallFailed as error:
        return InteractiveAnswer(errors=[error.reason])
    except MalformedAnswer as error:
        metrics.PREDICT_ERRORS.labels(endpoint.label).inc()
        return InteractiveAnswer(errors=[f"/predict: {error}"])
    outcome = read_entry(task_id, entry, project=project, default_version=default_version)
    if not outcome.ok:
        return InteractiveAnswer(errors=[outcome.error or "unusable answer"])
    first = entry[0] if isinstance(entry, list) else entry
    return InteractiveAnswer(data=first)


def test_prediction(
    client: ProtocolClient, tasks: TaskStore, project: ProjectInfo, endpoint: Endpoint
) -> dict[str, Any]:
    """The backend's raw answer for one random task of the project."""
    timeout = client.settings.interactive_timeout_seconds
    try:
        sample = tasks.some_task_ids(project.id, limit=100, timeout=timeout)
        if not sample:
            raise ValidationFailed({"project": ["The project has no tasks to predict."]})
        chosen = random.choice(sample)  # noqa: S311 - a sample, not security
        found = tasks.tasks(project.id, [chosen], timeout=timeout)
        answer = client.predict(endpoint, predict_body(project, found), interactive=True)
    except (TasksUnavailable, BackendCallFailed) as error:
        reason = error.reason if isinstance(error, BackendCallFailed) else str(error)
        raise TestPredictionFailed(reason) from None
    if isinstance(answer, list):
        return {"results": answer}
    if not isinstance(answer, dict):
        raise TestPredictionFailed("/predict answered something that is not a JSON object")
    return answer

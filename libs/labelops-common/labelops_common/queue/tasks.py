"""The one wrapper every Celery task goes through, and enqueue-after-commit.

Tasks get an explicit name and queue, late acknowledgement, declared retries, and three
metrics: outcomes, runtime and queue wait. Arguments are ids and scalars only, so a
message never carries an object that could be stale by the time it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from celery import shared_task, signals
from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session

TASKS = Counter("labelops_celery_tasks_total", "Celery task outcomes.", ["task", "queue", "state"])
RUNTIME = Histogram(
    "labelops_celery_task_runtime_seconds", "Celery task run time.", ["task", "queue"]
)
QUEUE_WAIT = Histogram(
    "labelops_celery_task_queue_wait_seconds",
    "Time between enqueue and start.",
    ["task", "queue"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600),
)
JOB_OUTCOMES = Counter(
    "labelops_job_outcomes_total",
    "Final status of jobs run through `run_job` (a job that failed and will not be retried "
    "ends as `failed` even though its Celery task succeeded).",
    ["task", "queue", "outcome"],
)
ENQUEUED_AT_HEADER = "labelops_enqueued_at"
#: What `run_job` returns; a task returning one of these reports it as the job's outcome.
JOB_RESULT_STATUSES = frozenset({"succeeded", "failed", "queued", "cancelled", "skipped"})

F = TypeVar("F", bound=Callable[..., Any])

#: Task name → queue, declared by `labelops_task` and applied by the app's router.
TASK_QUEUES: dict[str, str] = {}


def route_by_declared_queue(name: str, *_args: Any, **_kwargs: Any) -> dict[str, str] | None:
    """Celery `task_routes` entry: each task goes to the queue it was declared with."""
    queue = TASK_QUEUES.get(name)
    return {"queue": queue} if queue else None


def labelops_task(
    *,
    name: str,
    queue: str,
    max_retries: int = 3,
    autoretry_for: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError),
) -> Callable[[F], Any]:
    def decorate(function: F) -> Any:
        TASK_QUEUES[name] = queue
        return shared_task(
            name=name,
            acks_late=True,
            max_retries=max_retries,
            autoretry_for=autoretry_for,
            retry_backoff=True,
            retry_jitter=True,
        )(function)

    return decorate


def check_job_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    def ok(value: Any) -> bool:
        if value is None or isinstance(value, str | int | float | bool):
            return True
        if isinstance(value, list | tuple):
            return all(ok(item) for item in value)
        if isinstance(value, dict):
            return all(isinstance(k, str) and ok(v) for k, v in value.items())
        return False

    for value in (*args, *kwargs.values()):
        if not ok(value):
            raise TypeError(
                f"job arguments must be ids and JSON scalars, not {type(value).__name__}"
            )


def enqueue_after_commit(session: Session, task: Any, *args: Any, **kwargs: Any) -> None:
    """Send the message only once the session's transaction commits; drop it on rollback."""
    check_job_arguments(args, kwargs)

    def send(_session: Session) -> None:
        task.apply_async(args=args, kwargs=kwargs)

    event.listen(session, "after_commit", send, once=True)

    def forget(_session: Session, _previous: Any) -> None:
        if event.contains(session, "after_commit", send):
            event.remove(session, "after_commit", send)

    event.listen(session, "after_soft_rollback", forget, once=True)


@signals.before_task_publish.connect
def _stamp_enqueue_time(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None:
        headers[ENQUEUED_AT_HEADER] = time.time()


@signals.task_prerun.connect
def _task_started(task: Any = None, **_: Any) -> None:
    request = task.request
    request._labelops_started = time.perf_counter()
    enqueued = getattr(request, ENQUEUED_AT_HEADER, None) or (request.headers or {}).get(
        ENQUEUED_AT_HEADER
    )
    queue = (request.delivery_info or {}).get("routing_key") or task.queue or ""
    if enqueued:
        QUEUE_WAIT.labels(task.name, queue).observe(max(0.0, time.time() - float(enqueued)))


@signals.task_postrun.connect
def _task_finished(
    task: Any = None, state: str | None = None, retval: Any = None, **_: Any
) -> None:
    request = task.request
    queue = (request.delivery_info or {}).get("routing_key") or task.queue or ""
    started = getattr(request, "_labelops_started", None)
    if started is not None:
        RUNTIME.labels(task.name, queue).observe(time.perf_counter() - started)
    outcome = {"SUCCESS": "succeeded", "RETRY": "retried"}.get(state or "", "failed")
    TASKS.labels(task.name, queue, outcome).inc()
    if state == "SUCCESS" and isinstance(retval, str) and retval in JOB_RESULT_STATUSES:
        JOB_OUTCOMES.labels(task.name, queue, retval).inc()

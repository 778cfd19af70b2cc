"""The one wrapper every Celery task goes through, and its handle: enqueue-after-commit.

Tasks get an explicit name and queue, late acknowledgement, declared retries, and three
metrics: outcomes, runtime and queue wait. Arguments are ids and scalars only, so a
message never carries an object that could be stale by the time it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import shared_task, signals
from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session

from labelops_common.jobs.resources import JobResources, resources_of

logger = logging.getLogger(__name__)

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

#: Task name → queue, declared by `labelops_task` and applied by the app's router.
TASK_QUEUES: dict[str, str] = {}
#: Task name → its handle, for the runtime to find a service's jobs (and their sweeps).
HANDLES: dict[str, JobHandle] = {}
#: The queues a worker of this process takes (`consume_queues`, called where one starts).
CONSUMED_QUEUES: set[str] = set()
#: `JobHandle.run_here_after_commit`: threads per job, and runs waiting or running on them
#: beyond which a job goes to the broker instead (where any worker may take it).
LOCAL_THREADS = 4
LOCAL_BACKLOG = 16


def consume_queues(queues: Iterable[str]) -> None:
    """Record that this process's worker takes `queues`: their jobs may run here directly."""
    CONSUMED_QUEUES.update(queues)


def route_by_declared_queue(name: str, *_args: Any, **_kwargs: Any) -> dict[str, str] | None:
    """Celery `task_routes` entry: each task goes to the queue it was declared with."""
    queue = TASK_QUEUES.get(name)
    return {"queue": queue} if queue else None


class JobHandle:
    """A task declared with `labelops_task`: the one way to send it and to run it.

    `enqueue_after_commit(session, job_id)` sends once the session commits (never on
    rollback); `send(job_id)` sends now (the stale-job sweeps). Both go through this
    process's LabelOps Celery app, found from any thread (Celery's current app is
    thread-local, so a request thread must not use a task proxy: it would dial Celery's
    default AMQP broker). A process that built no app (a bare service without a broker,
    a test client) runs the job in a background thread instead. A send that fails is
    logged: the job's row stays queued for the sweeper.

    The body gets the resources its service registered (`resources`, a `JobResources`
    type) as its first argument, then the message's arguments.
    """

    def __init__(
        self,
        *,
        name: str,
        queue: str,
        body: Callable[..., Any],
        job_model: Any = None,
        resources: type[JobResources] | None = None,
        max_retries: int = 0,
    ) -> None:
        self.name = name
        self.queue = queue
        self.body = body
        self.job_model = job_model
        self.resources = resources
        self.max_retries = max_retries
        self.module = body.__module__
        self.task: Any = None
        self._local = _LocalRuns(name)

    def __repr__(self) -> str:
        return f"JobHandle({self.name!r}, queue={self.queue!r})"

    def enqueue_after_commit(self, session: Session, *args: Any, **kwargs: Any) -> None:
        """Send once `session` commits; drop it if it rolls back."""
        check_job_arguments(args, kwargs)
        bind = session.get_bind()
        call_after_commit(session, lambda: self.send(*args, bind=bind, **kwargs))

    def run_here_after_commit(self, session: Session, *args: Any, **kwargs: Any) -> None:
        """Once `session` commits, run the job in this process if its worker takes the job's
        queue and the job's threads here have room; else send it (`enqueue_after_commit`).

        For a job whose message costs more than its work: a broker round trip (publish,
        receive, Celery's tracing) is about 3 ms of CPU, more than a webhook delivery's
        request. The job's row keeps this as safe as a message: a process that dies before
        the run leaves the row queued, and the sweeper sends it. Only for jobs without
        Celery retries (their failures are their rows' business), which a run here could
        not give.
        """
        if self.max_retries:
            raise ValueError(f"{self.name}: a job with Celery retries must go through the broker")
        check_job_arguments(args, kwargs)
        bind = session.get_bind()
        call_after_commit(session, lambda: self._run_here_or_send(args, kwargs, bind))

    def _run_here_or_send(self, args: tuple[Any, ...], kwargs: dict[str, Any], bind: Any) -> None:
        submitted = time.time()
        if self.queue in CONSUMED_QUEUES and self._local.try_submit(
            lambda: self._run_observed(args, kwargs, bind, submitted)
        ):
            return
        self.send(*args, bind=bind, **kwargs)

    def _run_observed(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], bind: Any, submitted: float
    ) -> None:
        """A run here, with the metrics a Celery run of the task records."""
        QUEUE_WAIT.labels(self.name, self.queue).observe(max(0.0, time.time() - submitted))
        started = time.perf_counter()
        try:
            result = self.run(*args, bind=bind, **kwargs)
        except Exception:
            _count_run(self.name, self.queue, started, "failed")
            logger.exception("job crashed", extra={"task": self.name, "job_args": list(args)})
            return
        _count_run(self.name, self.queue, started, "succeeded", result)

    def send(
        self, *args: Any, countdown: float | None = None, bind: Any = None, **kwargs: Any
    ) -> None:
        """Send now (sweeps, retries; a request enqueues after its commit). Without a Celery
        app, run in a thread, on the resources of the database `bind` if given."""
        from labelops_common.queue.app import labelops_celery_app

        check_job_arguments(args, kwargs)
        app = labelops_celery_app()
        if app is None:
            logger.warning("no Celery app in this process; running the job in a thread")
            threading.Thread(
                target=self._run_logged,
                args=(args, kwargs, bind),
                daemon=True,
                name=f"job-{self.name}",
            ).start()
            return
        try:
            app.send_task(
                self.name, args=list(args), kwargs=kwargs, queue=self.queue, countdown=countdown
            )
        except Exception:
            logger.exception("job not sent; its row stays queued for the sweeper")

    def run(self, *args: Any, bind: Any = None, **kwargs: Any) -> Any:
        """Run the body here, with the resources its service registered in this process
        (those on the database `bind` if given)."""
        if self.resources is None:
            return self.body(*args, **kwargs)
        return self.body(resources_of(self.resources, bind=bind), *args, **kwargs)

    def _run_logged(self, args: tuple[Any, ...], kwargs: dict[str, Any], bind: Any) -> None:
        try:
            self.run(*args, bind=bind, **kwargs)
        except Exception:
            logger.exception("job crashed", extra={"task": self.name, "job_args": list(args)})


class _LocalRuns:
    """A job's threads for runs in this process, made on first use (after any fork)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._pending = 0
        self._pool: ThreadPoolExecutor | None = None

    def try_submit(self, function: Callable[[], None]) -> bool:
        """Run `function` on these threads, unless `LOCAL_BACKLOG` runs are waiting or
        running already (False: the caller sends the job to the broker)."""
        with self._lock:
            if self._pending >= LOCAL_BACKLOG:
                return False
            self._pending += 1
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=LOCAL_THREADS, thread_name_prefix=f"job-{self._name}"
                )
            pool = self._pool

        def run() -> None:
            try:
                function()
            finally:
                with self._lock:
                    self._pending -= 1

        pool.submit(run)
        return True


def labelops_task(
    *,
    name: str,
    queue: str,
    job_model: Any = None,
    resources: type[JobResources] | None = None,
    max_retries: int = 3,
    autoretry_for: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError),
) -> Callable[[Callable[..., Any]], JobHandle]:
    """Declare a Celery task named `name` on `queue`; returns its `JobHandle`.

    `job_model` (a `JobRecordMixin` model whose ids the messages carry) gives the owning
    service a stale-job sweep for it; `resources` is the `JobResources` type the body
    takes first.
    """

    def decorate(function: Callable[..., Any]) -> JobHandle:
        handle = JobHandle(
            name=name,
            queue=queue,
            body=function,
            job_model=job_model,
            resources=resources,
            max_retries=max_retries,
        )

        def run_task(*args: Any, **kwargs: Any) -> Any:
            return handle.run(*args, **kwargs)

        run_task.__name__ = function.__name__
        run_task.__qualname__ = function.__qualname__
        run_task.__module__ = function.__module__
        run_task.__doc__ = function.__doc__
        TASK_QUEUES[name] = queue
        handle.task = shared_task(
            name=name,
            acks_late=True,
            max_retries=max_retries,
            autoretry_for=autoretry_for,
            retry_backoff=True,
            retry_jitter=True,
        )(run_task)
        HANDLES[name] = handle
        return handle

    return decorate


def handles_in(modules: Iterable[str]) -> list[JobHandle]:
    """The handles declared in these (imported) modules."""
    wanted = set(modules)
    return [handle for handle in HANDLES.values() if handle.module in wanted]


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


def call_after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Call `callback` only once the session's transaction commits; forget it on rollback."""

    def send(_session: Session) -> None:
        callback()

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
    outcome = {"SUCCESS": "succeeded", "RETRY": "retried"}.get(state or "", "failed")
    started = getattr(request, "_labelops_started", None)
    _count_run(task.name, queue, started, outcome, retval if state == "SUCCESS" else None)


def _count_run(
    task: str, queue: str, started: float | None, outcome: str, result: Any = None
) -> None:
    """A finished run's metrics (a Celery run's, or one `run_here_after_commit` started):
    its time since `started` (`perf_counter`), its outcome, and the job's own if it
    returned one."""
    if started is not None:
        RUNTIME.labels(task, queue).observe(time.perf_counter() - started)
    TASKS.labels(task, queue, outcome).inc()
    if isinstance(result, str) and result in JOB_RESULT_STATUSES:
        JOB_OUTCOMES.labels(task, queue, result).inc()

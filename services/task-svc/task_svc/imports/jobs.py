"""The `imports` queue: large imports run here, one `ImportJob` row each.

A Celery message carries only the job id. The body needs task-svc's database, its
project directory and the artifact storage holding the spooled body (an object store when
the worker runs in another pod than the API that received it): `build_service` hands them
over with `configure(...)` (in every process that builds task-svc, including
`labelops worker`, which builds every service).

Running twice is harmless: the tasks and the job's result (`committed: true`) are
written in ONE transaction, and a re-run that finds the result committed does nothing.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from labelops_common.artifacts import ArtifactStorage, artifact_storage
from labelops_common.db import Database
from labelops_common.directory import ProjectDirectory
from labelops_common.http.errors import ValidationFailed
from labelops_common.jobs import JobContext, JobStatus, requeue_stale_jobs, run_job
from labelops_common.queue import enqueue_after_commit, labelops_celery_app, labelops_task
from labelops_common.settings import CommonSettings
from sqlalchemy import text
from sqlalchemy.orm import Session

from task_svc.db import analyze_if_grown, vacuum_analyze
from task_svc.imports import service, uploads
from task_svc.imports.models import ImportJob
from task_svc.settings import Settings

logger = logging.getLogger(__name__)

TASK_NAME = "task-svc.import_tasks"
QUEUE = "imports"


@dataclass(frozen=True)
class ImportServices:
    """What a job body needs from the task-svc instance built in this process."""

    database: Database
    projects: ProjectDirectory
    storage: ArtifactStorage
    limits: service.Limits


_services: ImportServices | None = None


def configure(
    *,
    database: Database,
    projects: ProjectDirectory,
    settings: Settings,
    common: CommonSettings,
    storage: ArtifactStorage | None = None,
) -> None:
    """Called by `task_svc.app.build_service`; the last built instance wins.

    Without `storage`, the one the settings name is built (`build_service` passes its own).
    """
    global _services
    if storage is None:
        storage = artifact_storage(common, local_root=settings.resolved_uploads_dir(common))
    _services = ImportServices(
        database=database,
        projects=projects,
        storage=storage,
        limits=service.Limits(
            max_tasks=settings.import_max_tasks, batch_size=settings.import_batch_size
        ),
    )


def configured() -> ImportServices:
    if _services is None:
        raise RuntimeError("task-svc was not built in this process; import jobs cannot run")
    return _services


class ImportFailed(Exception):
    """The import's input is bad: retrying cannot help."""


def enqueue(session: Session, job_id: int) -> None:
    """Queue the job once `session` commits (nothing is sent if it rolls back)."""
    enqueue_after_commit(session, _Dispatch(), job_id)


class _Dispatch:
    """Sends the job message through this process's LabelOps Celery app.

    Celery's current app is thread-local, so a request thread must not use the task
    proxy (it would dial Celery's default AMQP broker). A process that built no app
    (a bare service without a broker) runs the job in a background thread instead.
    A send that fails leaves the row queued for the stale-job sweeper.
    """

    def apply_async(self, args: Any = (), kwargs: Any = None) -> None:
        app = labelops_celery_app()
        if app is None:
            logger.warning("no Celery app in this process; running the import job in a thread")
            threading.Thread(
                target=_run_in_thread, args=tuple(args), daemon=True, name="import-job"
            ).start()
            return
        try:
            app.send_task(TASK_NAME, args=list(args), kwargs=kwargs or {}, queue=QUEUE)
        except Exception:
            logger.exception("import job not sent; it stays queued for the sweeper")


def requeue_stale_imports() -> int:
    """Send again the import jobs whose message was lost or whose worker died."""
    services = configured()
    return requeue_stale_jobs(
        session_factory=services.database.new_session,
        model=ImportJob,
        enqueue=lambda job_id: _Dispatch().apply_async(args=[job_id]),
    )


def _run_in_thread(job_id: int) -> None:
    try:
        run_import_job(job_id)
    except Exception:
        logger.exception("import job crashed", extra={"job_id": job_id})


@labelops_task(name=TASK_NAME, queue=QUEUE)
def import_tasks(job_id: int) -> str:
    return run_import_job(job_id)


def run_import_job(job_id: int, *, lease_seconds: float = 60.0) -> str:
    """Claim and run one import job; returns its final status (or "skipped")."""
    services = configured()
    status = run_job(
        session_factory=services.database.new_session,
        model=ImportJob,
        job_id=job_id,
        body=lambda context: _run(services, context),
        lease_seconds=lease_seconds,
        retryable=lambda exc: not isinstance(exc, ImportFailed),
    )
    if status == JobStatus.FAILED.value:
        # Failed for good (bad input, or retries used up): nothing will read the body again.
        _cleanup_job(services, job_id)
    return status


def _run(services: ImportServices, context: JobContext) -> None:
    request = service.ImportRequest.from_payload(context.payload)
    with services.database.session() as session:
        job = session.get(ImportJob, context.job_id)
        if job is None:
            raise ImportFailed("The import job is gone.")
        if (job.result or {}).get("committed"):
            logger.info("import already committed", extra={"job_id": job.id})
            _cleanup(services, request)
            return
        project = services.projects.get(request.project_id)
        if project is None:
            _cleanup(services, request)
            raise ImportFailed("The project no longer exists.")
        try:
            response = service.execute_import(
                session,
                project=project,
                request=request,
                storage=services.storage,
                limits=services.limits,
                on_progress=context.report_progress,
            )
        except ValidationFailed as exc:
            session.rollback()
            _cleanup(services, request)
            raise ImportFailed(service.error_text(exc)) from None
        job.result = {**response, "committed": True}
        job.progress = int(response.get("task_count") or 0)
        job.total = job.progress
        if job.progress >= MAINTAIN_AFTER_TASKS:
            commit_durably(session)
        session.commit()
    if job.progress >= MAINTAIN_AFTER_TASKS:
        maintain_tasks_table(services.database)
    else:
        analyze_if_grown(services.database.engine, "tasks", added=job.progress)
    context.report_progress(job.progress, job.total)
    _cleanup(services, request)


#: Imports this large change the table enough that stale statistics and an unset
#: visibility map slow the data manager's filters and pages until autovacuum gets to it.
MAINTAIN_AFTER_TASKS = 50_000


def commit_durably(session: Session) -> None:
    """Make this transaction's COMMIT wait for its WAL flush, whatever the server's
    `synchronous_commit`: VACUUM does not mark the pages of an asynchronously committed
    transaction all-visible until the WAL writer has caught up, so the maintenance right
    after the import would otherwise leave the new pages unmarked."""
    session.execute(text("SET LOCAL synchronous_commit TO on"))


def maintain_tasks_table(database: Database) -> None:
    """VACUUM (ANALYZE) the tasks table once a large import has committed.

    Rows written by COPY are not yet marked all-visible, so until autovacuum passes, the
    data manager's id walks (`ORDER BY ... OFFSET n`) read the heap for every index entry
    instead of running as index-only scans; the ANALYZE gives the planner the new sizes.
    VACUUM skips pages already all-visible, so this costs about the pages just written.
    Best effort: a failure is logged and the import stays done.
    """
    vacuum_analyze(database, "tasks")


def _cleanup(services: ImportServices, request: service.ImportRequest) -> None:
    """Delete the spooled raw bodies (uploaded files stay: they are the project's media)."""
    for key in request.temporary_paths:
        uploads.remove(services.storage, key)


def _cleanup_job(services: ImportServices, job_id: int) -> None:
    with services.database.session() as session:
        job = session.get(ImportJob, job_id)
        payload = dict(job.payload or {}) if job is not None else None
    if payload is not None:
        _cleanup(services, service.ImportRequest.from_payload(payload))

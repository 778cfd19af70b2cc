"""The `imports` queue: large imports run here, one `ImportJob` row each.

A Celery message carries only the job id. The body gets task-svc's database, its project
directory and the artifact storage holding the spooled body (an object store when the
worker runs in another pod than the API that received it) as `TaskJobResources`, which
the runtime registers when it builds task-svc.

Running twice is harmless: the tasks and the job's result (`committed: true`) are
written in ONE transaction, and a re-run that finds the result committed does nothing.
"""

from __future__ import annotations

import logging

from labelops_common.audit import Actor
from labelops_common.db import Database
from labelops_common.http.errors import ValidationFailed
from labelops_common.jobs import JobContext, JobStatus, run_job
from labelops_common.queue import labelops_task
from sqlalchemy import text
from sqlalchemy.orm import Session

from task_svc.audit import service as audit
from task_svc.db import analyze_if_grown, vacuum_analyze
from task_svc.imports import service, uploads
from task_svc.imports.models import ImportJob
from task_svc.jobs import TaskJobResources

logger = logging.getLogger(__name__)


class ImportFailed(Exception):
    """The import's input is bad: retrying cannot help."""


@labelops_task(
    name="task-svc.import_tasks", queue="imports", job_model=ImportJob, resources=TaskJobResources
)
def import_tasks(resources: TaskJobResources, job_id: int) -> str:
    """Claim and run one import job; returns its final status (or "skipped")."""
    status = run_job(
        session_factory=resources.database.new_session,
        model=ImportJob,
        job_id=job_id,
        body=lambda context: _run(resources, context),
        retryable=lambda exc: not isinstance(exc, ImportFailed),
    )
    if status == JobStatus.FAILED.value:
        # Failed for good (bad input, or retries used up): nothing will read the body again.
        _cleanup_job(resources, job_id)
    return status


def _run(resources: TaskJobResources, context: JobContext) -> None:
    request = service.ImportRequest.from_payload(context.payload)
    with resources.database.session() as session:
        job = session.get(ImportJob, context.job_id)
        if job is None:
            raise ImportFailed("The import job is gone.")
        if (job.result or {}).get("committed"):
            logger.info("import already committed", extra={"job_id": job.id})
            _cleanup(resources, request)
            return
        project = resources.projects.get(request.project_id)
        if project is None:
            _cleanup(resources, request)
            raise ImportFailed("The project no longer exists.")
        try:
            response = service.execute_import(
                session,
                project=project,
                request=request,
                storage=resources.storage,
                limits=resources.limits,
                on_progress=context.report_progress,
            )
        except ValidationFailed as exc:
            session.rollback()
            _cleanup(resources, request)
            raise ImportFailed(service.error_text(exc)) from None
        job.result = {**response, "committed": True}
        if request.user_id is not None:
            audit.tasks_imported(
                session,
                Actor(
                    user_id=request.user_id,
                    organization_id=project.organization_id,
                    email=request.user_email or "",
                ),
                project_id=project.id,
                import_id=job.id,
                response=response,
            )
        job.progress = int(response.get("task_count") or 0)
        job.total = job.progress
        if job.progress >= MAINTAIN_AFTER_TASKS:
            commit_durably(session)
        session.commit()
    if job.progress >= MAINTAIN_AFTER_TASKS:
        maintain_tasks_table(resources.database)
    else:
        analyze_if_grown(resources.database.engine, "tasks", added=job.progress)
    context.report_progress(job.progress, job.total)
    _cleanup(resources, request)


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


def _cleanup(resources: TaskJobResources, request: service.ImportRequest) -> None:
    """Delete the spooled raw bodies (uploaded files stay: they are the project's media)."""
    for key in request.temporary_paths:
        uploads.remove(resources.storage, key)


def _cleanup_job(resources: TaskJobResources, job_id: int) -> None:
    with resources.database.session() as session:
        job = session.get(ImportJob, job_id)
        payload = dict(job.payload or {}) if job is not None else None
    if payload is not None:
        _cleanup(resources, service.ImportRequest.from_payload(payload))

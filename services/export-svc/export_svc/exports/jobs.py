"""The `exports` queue: snapshots and conversions run here, one row each.

A Celery message carries only the row id. The bodies need export-svc's database, its
artifact storage and its peers: `build_service` hands them over with `configure(...)` (in
every process that builds export-svc, including `labelops worker`).

Running twice is harmless: a row whose file is already recorded is left alone, a re-run
after a crash overwrites the same key (files are published whole, never appended), and
`run_job` skips a row another worker holds or that is finished.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from labelops_common.db import Database
from labelops_common.directory import ProjectDirectory, UserDirectory
from labelops_common.http.errors import ApiError
from labelops_common.jobs import JobContext, requeue_stale_jobs, run_job
from labelops_common.queue import enqueue_after_commit, labelops_celery_app, labelops_task
from sqlalchemy.orm import Session

from export_svc.artifacts import ArtifactStorage
from export_svc.exports import service
from export_svc.exports.models import ConvertedFormat, Export
from export_svc.formats import find_format
from export_svc.tasks.stream import TaskSource

logger = logging.getLogger(__name__)

QUEUE = "exports"
SNAPSHOT_TASK = "export-svc.write_snapshot"
CONVERT_TASK = "export-svc.convert_snapshot"


@dataclass(frozen=True)
class ExportServices:
    """What a job body needs from the export-svc instance built in this process."""

    database: Database
    projects: ProjectDirectory
    people: UserDirectory
    storage: ArtifactStorage
    source: TaskSource


_services: ExportServices | None = None


def configure(services: ExportServices) -> None:
    """Called by `export_svc.app.build_service`; the last built instance wins."""
    global _services
    _services = services


def configured() -> ExportServices:
    if _services is None:
        raise RuntimeError("export-svc was not built in this process; export jobs cannot run")
    return _services


class ExportFailed(Exception):
    """The export cannot be written (project or snapshot gone, bad options): no retry helps."""


def enqueue_snapshot(session: Session, export_id: int) -> None:
    """Queue the snapshot once `session` commits (nothing is sent if it rolls back)."""
    enqueue_after_commit(session, _Dispatch(SNAPSHOT_TASK), export_id)


def enqueue_conversion(session: Session, converted_id: int) -> None:
    enqueue_after_commit(session, _Dispatch(CONVERT_TASK), converted_id)


class _Dispatch:
    """Sends a job message through this process's LabelOps Celery app.

    Celery's current app is thread-local, so a request thread must not use the task proxy.
    A process that built no app (a bare service without a broker) runs the job in a
    background thread instead. A send that fails leaves the row queued for the sweeper.
    """

    def __init__(self, task_name: str) -> None:
        self.task_name = task_name

    def apply_async(self, args: Any = (), kwargs: Any = None) -> None:
        app = labelops_celery_app()
        if app is None:
            logger.warning("no Celery app in this process; running the export job in a thread")
            threading.Thread(
                target=_run_in_thread,
                args=(self.task_name, *tuple(args)),
                daemon=True,
                name="export-job",
            ).start()
            return
        try:
            app.send_task(self.task_name, args=list(args), kwargs=kwargs or {}, queue=QUEUE)
        except Exception:
            logger.exception("export job not sent; it stays queued for the sweeper")


def requeue_stale_exports() -> int:
    """Send again the snapshot and conversion jobs whose message was lost or worker died."""
    services = configured()
    snapshots = requeue_stale_jobs(
        session_factory=services.database.new_session,
        model=Export,
        enqueue=lambda job_id: _Dispatch(SNAPSHOT_TASK).apply_async(args=[job_id]),
    )
    conversions = requeue_stale_jobs(
        session_factory=services.database.new_session,
        model=ConvertedFormat,
        enqueue=lambda job_id: _Dispatch(CONVERT_TASK).apply_async(args=[job_id]),
    )
    return snapshots + conversions


def _run_in_thread(task_name: str, job_id: int) -> None:
    try:
        if task_name == SNAPSHOT_TASK:
            run_snapshot_job(job_id)
        else:
            run_conversion_job(job_id)
    except Exception:
        logger.exception("export job crashed", extra={"job_id": job_id})


@labelops_task(name=SNAPSHOT_TASK, queue=QUEUE)
def write_snapshot(export_id: int) -> str:
    return run_snapshot_job(export_id)


@labelops_task(name=CONVERT_TASK, queue=QUEUE)
def convert_snapshot(converted_id: int) -> str:
    return run_conversion_job(converted_id)


def _retryable(exc: BaseException) -> bool:
    return not isinstance(exc, ExportFailed | ApiError)


def run_snapshot_job(export_id: int, *, lease_seconds: float = 60.0) -> str:
    """Claim and write one snapshot; returns the job's final status (or "skipped")."""
    services = configured()
    return run_job(
        session_factory=services.database.new_session,
        model=Export,
        job_id=export_id,
        body=lambda context: _write_snapshot(services, context),
        lease_seconds=lease_seconds,
        retryable=_retryable,
    )


def run_conversion_job(converted_id: int, *, lease_seconds: float = 60.0) -> str:
    services = configured()
    return run_job(
        session_factory=services.database.new_session,
        model=ConvertedFormat,
        job_id=converted_id,
        body=lambda context: _write_conversion(services, context),
        lease_seconds=lease_seconds,
        retryable=_retryable,
    )


def _write_snapshot(services: ExportServices, context: JobContext) -> None:
    with services.database.session() as session:
        export = session.get(Export, context.job_id)
        if export is None:
            raise ExportFailed("The export is gone.")
        if export.md5 and export.artifact_key and services.storage.exists(export.artifact_key):
            logger.info("snapshot already written", extra={"job_id": export.id})
            return
        project = services.projects.get(export.project_id)
        if project is None:
            raise ExportFailed("The project no longer exists.")
        session.expunge(export)
    written = service.write_snapshot(
        storage=services.storage,
        source=services.source,
        people=services.people,
        project=project,
        export=export,
    )
    with services.database.session() as session:
        current = session.get(Export, context.job_id)
        if current is None:
            # Deleted while it was being written: its file must not outlive it.
            services.storage.delete(written.key)
            raise ExportFailed("The export was deleted while it was written.")
        current.artifact_key = written.key
        current.md5 = written.md5
        current.size = written.size
        current.counters = {"task_number": written.rows}
        current.progress = written.rows
        current.total = written.rows
        session.commit()
    context.report_progress(written.rows, written.rows)


def _write_conversion(services: ExportServices, context: JobContext) -> None:
    with services.database.session() as session:
        converted = session.get(ConvertedFormat, context.job_id)
        export = session.get(Export, converted.export_id) if converted is not None else None
        if converted is None or export is None:
            raise ExportFailed("The export is gone.")
        if (
            converted.md5
            and converted.artifact_key
            and services.storage.exists(converted.artifact_key)
        ):
            return
        export_format = find_format(converted.export_type)
        if export_format is None:
            raise ExportFailed(f"Unknown export format {converted.export_type}.")
        project = services.projects.get(export.project_id)
        if project is None:
            raise ExportFailed("The project no longer exists.")
        session.expunge_all()
    written = service.write_conversion(
        storage=services.storage,
        project=project,
        export=export,
        converted=converted,
        export_format=export_format,
    )
    with services.database.session() as session:
        current = session.get(ConvertedFormat, context.job_id)
        if current is None:
            services.storage.delete(written.key)
            raise ExportFailed("The export was deleted while it was converted.")
        current.artifact_key = written.key
        current.md5 = written.md5
        current.size = written.size
        session.commit()

"""The `exports` queue: snapshots and conversions run here, one row each.

A Celery message carries only the row id. The bodies get export-svc's database, its
artifact storage and its peers as `ExportJobResources`, which the runtime registers when
it builds export-svc.

Running twice is harmless: a row whose file is already recorded is left alone, a re-run
after a crash overwrites the same key (files are published whole, never appended), and
`run_job` skips a row another worker holds or that is finished.
"""

from __future__ import annotations

import logging

from labelops_common.http.errors import ApiError
from labelops_common.jobs import JobContext, run_job
from labelops_common.queue import labelops_task

from export_svc.exports import service
from export_svc.exports.models import ConvertedFormat, Export
from export_svc.formats import find_format
from export_svc.jobs import ExportJobResources

logger = logging.getLogger(__name__)


class ExportFailed(Exception):
    """The export cannot be written (project or snapshot gone, bad options): no retry helps."""


def _retryable(exc: BaseException) -> bool:
    return not isinstance(exc, ExportFailed | ApiError)


@labelops_task(
    name="export-svc.write_snapshot",
    queue="exports",
    job_model=Export,
    resources=ExportJobResources,
)
def write_snapshot(
    resources: ExportJobResources, export_id: int, *, lease_seconds: float = 60.0
) -> str:
    """Claim and write one snapshot; returns the job's final status (or "skipped")."""
    return run_job(
        session_factory=resources.database.new_session,
        model=Export,
        job_id=export_id,
        body=lambda context: _write_snapshot(resources, context),
        lease_seconds=lease_seconds,
        retryable=_retryable,
    )


@labelops_task(
    name="export-svc.convert_snapshot",
    queue="exports",
    job_model=ConvertedFormat,
    resources=ExportJobResources,
)
def convert_snapshot(
    resources: ExportJobResources, converted_id: int, *, lease_seconds: float = 60.0
) -> str:
    """Claim and write one conversion of a snapshot; returns the job's final status."""
    return run_job(
        session_factory=resources.database.new_session,
        model=ConvertedFormat,
        job_id=converted_id,
        body=lambda context: _write_conversion(resources, context),
        lease_seconds=lease_seconds,
        retryable=_retryable,
    )


def _write_snapshot(resources: ExportJobResources, context: JobContext) -> None:
    with resources.database.session() as session:
        export = session.get(Export, context.job_id)
        if export is None:
            raise ExportFailed("The export is gone.")
        if export.md5 and export.artifact_key and resources.storage.exists(export.artifact_key):
            logger.info("snapshot already written", extra={"job_id": export.id})
            return
        project = resources.projects.get(export.project_id)
        if project is None:
            raise ExportFailed("The project no longer exists.")
        session.expunge(export)
    written = service.write_snapshot(
        storage=resources.storage,
        source=resources.source,
        people=resources.people,
        project=project,
        export=export,
    )
    with resources.database.session() as session:
        current = session.get(Export, context.job_id)
        if current is None:
            # Deleted while it was being written: its file must not outlive it.
            resources.storage.delete(written.key)
            raise ExportFailed("The export was deleted while it was written.")
        current.artifact_key = written.key
        current.md5 = written.md5
        current.size = written.size
        current.counters = {"task_number": written.rows}
        current.progress = written.rows
        current.total = written.rows
        session.commit()
    context.report_progress(written.rows, written.rows)


def _write_conversion(resources: ExportJobResources, context: JobContext) -> None:
    with resources.database.session() as session:
        converted = session.get(ConvertedFormat, context.job_id)
        export = session.get(Export, converted.export_id) if converted is not None else None
        if converted is None or export is None:
            raise ExportFailed("The export is gone.")
        if (
            converted.md5
            and converted.artifact_key
            and resources.storage.exists(converted.artifact_key)
        ):
            return
        export_format = find_format(converted.export_type)
        if export_format is None:
            raise ExportFailed(f"Unknown export format {converted.export_type}.")
        project = resources.projects.get(export.project_id)
        if project is None:
            raise ExportFailed("The project no longer exists.")
        session.expunge_all()
    written = service.write_conversion(
        storage=resources.storage,
        project=project,
        export=export,
        converted=converted,
        export_format=export_format,
        media=resources.media,
    )
    with resources.database.session() as session:
        current = session.get(ConvertedFormat, context.job_id)
        if current is None:
            resources.storage.delete(written.key)
            raise ExportFailed("The export was deleted while it was converted.")
        current.artifact_key = written.key
        current.md5 = written.md5
        current.size = written.size
        session.commit()

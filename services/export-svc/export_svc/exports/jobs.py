"""The `exports` queue: snapshots and conversions run here, one row each.

A Celery message carries only the row id. The bodies get export-svc's database, its
artifact storage and its peers as `ExportJobResources`, which the runtime registers when
it builds export-svc.

Running twice is harmless: a row whose file is already recorded is left alone, a re-run
after a crash overwrites the same key (files are published whole, never appended), and
`run_job` skips a row another worker holds or that is finished. A snapshot records its
progress every `progress_interval_seconds`; the same statement finds a cancelled or deleted
row, and the job aborts its upload and stops.

A snapshot with a target storage is then written there through storage-sync, before the
job ends: the outcome is recorded on the row (`target_status`, `target_uri` or
`target_error`) and never fails the snapshot, whose file stays downloadable. A job that
runs again after a crash writes the target again (the same object name), unless the row
already says how it went.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from labelops_common.artifacts import ArtifactStorageError
from labelops_common.db import utcnow
from labelops_common.grpcutil import PeerError
from labelops_common.http.errors import ApiError
from labelops_common.jobs import JobCancelled, JobContext, JobStatus, run_job
from labelops_common.queue import labelops_task
from sqlalchemy import update

from export_svc.exports import service
from export_svc.exports.models import ConvertedFormat, Export
from export_svc.formats import find_format
from export_svc.jobs import ExportJobResources
from export_svc.storages import StorageWriteFailed

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
def write_snapshot(resources: ExportJobResources, export_id: int) -> str:
    """Claim and write one snapshot; returns the job's final status (or "skipped")."""
    return run_job(
        session_factory=resources.database.new_session,
        model=Export,
        job_id=export_id,
        body=lambda context: _write_snapshot(resources, context),
        retryable=_retryable,
    )


@labelops_task(
    name="export-svc.convert_snapshot",
    queue="exports",
    job_model=ConvertedFormat,
    resources=ExportJobResources,
)
def convert_snapshot(resources: ExportJobResources, converted_id: int) -> str:
    """Claim and write one conversion of a snapshot; returns the job's final status."""
    return run_job(
        session_factory=resources.database.new_session,
        model=ConvertedFormat,
        job_id=converted_id,
        body=lambda context: _write_conversion(resources, context),
        retryable=_retryable,
    )


def _write_snapshot(resources: ExportJobResources, context: JobContext) -> None:
    with resources.database.session() as session:
        export = session.get(Export, context.job_id)
        if export is None:
            raise JobCancelled("The export is gone.")
        if export.md5 and export.artifact_key and resources.storage.exists(export.artifact_key):
            logger.info("snapshot already written", extra={"job_id": export.id})
            session.expunge(export)
            _write_to_target(resources, export)
            return
        project = resources.projects.get(export.project_id)
        if project is None:
            raise ExportFailed("The project no longer exists.")
        session.expunge(export)
    total = resources.source.count(service.selection_of(export))
    progress = SnapshotProgress(
        resources, context, total=total, interval=resources.progress_interval_seconds
    )
    progress.record(0)
    written = service.write_snapshot(
        storage=resources.storage,
        source=resources.source,
        people=resources.people,
        project=project,
        export=export,
        on_progress=progress.tick,
    )
    with resources.database.session() as session:
        # Only a row still running as this job records the file: a snapshot deleted or
        # cancelled while it was written must not outlive that.
        recorded = session.execute(
            update(Export)
            .where(Export.id == context.job_id, Export.status == JobStatus.RUNNING.value)
            .values(
                artifact_key=written.key,
                md5=written.md5,
                size=written.size,
                counters={"task_number": written.rows},
                progress=written.rows,
                total=written.rows,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
    if not getattr(recorded, "rowcount", 0):
        resources.storage.delete(written.key)
        raise JobCancelled("The export was cancelled or deleted while it was written.")
    context.report_progress(written.rows, written.rows)
    export.artifact_key, export.size = written.key, written.size
    _write_to_target(resources, export)


#: `target_status` values that say how the write went; anything else is written (again).
TARGET_DONE = ("completed", "failed")


def _write_to_target(resources: ExportJobResources, export: Export) -> None:
    """Write the finished file to the snapshot's export storage and record how it went."""
    if export.target_storage_id is None or export.target_status in TARGET_DONE:
        return
    if not _set_target(resources, export.id, target_status="in_progress", target_error=None):
        return
    outcome: dict[str, object]
    try:
        written = service.write_to_target(
            storage=resources.storage, storages=resources.storages, export=export
        )
    except StorageWriteFailed as failure:
        outcome = {"target_status": "failed", "target_error": failure.reason}
    except PeerError as failure:
        outcome = {
            "target_status": "failed",
            "target_error": f"storage-sync could not be reached ({failure.code.name}).",
        }
    except (ArtifactStorageError, FileNotFoundError):
        outcome = {"target_status": "failed", "target_error": "The snapshot file is missing."}
    except Exception as failure:  # the snapshot stands whatever became of its copy
        logger.exception("writing a snapshot to its export storage failed")
        outcome = {
            "target_status": "failed",
            "target_error": f"The write failed unexpectedly ({type(failure).__name__}).",
        }
    else:
        outcome = {
            "target_status": "completed",
            "target_uri": written.uri,
            "target_error": None,
            "target_written_at": utcnow(),
        }
    if outcome["target_status"] == "failed":
        logger.warning(
            "snapshot not written to its export storage",
            extra={"job_id": export.id, "storage_id": export.target_storage_id},
        )
    _set_target(resources, export.id, **outcome)


def _set_target(resources: ExportJobResources, export_id: int, **values: object) -> bool:
    with resources.database.session() as session:
        changed = session.execute(
            update(Export)
            .where(Export.id == export_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return bool(getattr(changed, "rowcount", 0))


class SnapshotProgress:
    """Records a running snapshot's progress at most every `interval` seconds; the same
    conditional UPDATE tells it the row was cancelled or deleted, and it stops the job."""

    def __init__(
        self,
        resources: ExportJobResources,
        context: JobContext,
        *,
        total: int | None,
        interval: float,
    ) -> None:
        self._resources = resources
        self._context = context
        self._total = total
        self._interval = interval
        self._last = time.monotonic()

    def tick(self, rows: int) -> None:
        if time.monotonic() - self._last >= self._interval:
            self.record(rows)

    def record(self, rows: int) -> None:
        self._last = time.monotonic()
        self._context.report_progress(rows, self._total)
        values: dict[str, object] = {"progress": rows, "updated_at": utcnow()}
        if self._total is not None:
            values["total"] = self._total
        with self._resources.database.session() as session:
            running = session.execute(
                update(Export)
                .where(Export.id == self._context.job_id, Export.status == JobStatus.RUNNING.value)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            session.commit()
        if not getattr(running, "rowcount", 0):
            raise JobCancelled("The export was cancelled or deleted.")


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
            raise JobCancelled("The export was deleted while it was converted.")
        current.artifact_key = written.key
        current.md5 = written.md5
        current.size = written.size
        session.commit()


#: A partial file on local disk this old was left by a worker that died while writing it.
ABANDONED_PARTIAL_AGE = timedelta(hours=6)


def remove_expired_snapshots(resources: ExportJobResources) -> int:
    """The retention sweep: finished snapshots older than `snapshot_retention_days` go,
    rows and files (0 days keeps them); on local disk, so do the partial files of killed
    workers (object stores drop unfinished uploads themselves)."""
    removed = service.remove_abandoned_partials(resources.storage, older_than=ABANDONED_PARTIAL_AGE)
    if resources.retention_days <= 0:
        return removed
    with resources.database.session() as session:
        while True:
            batch = service.remove_expired_exports(
                session,
                storage=resources.storage,
                older_than=timedelta(days=resources.retention_days),
            )
            removed += batch
            if batch == 0:
                break
    if removed:
        logger.info("expired snapshots removed", extra={"removed": removed})
    return removed

"""The `storage` queue (syncs) and storage-sync's handlers of task-svc's events.

A sync message carries only its `SyncJob` id; `run_job` claims the row with a lease, so a
redelivered message or the stale-job sweep after a worker died continues the job, and the
sync body's own records (see `importing`) make the rerun add only what is missing.
"""

from __future__ import annotations

import logging

from labelops_common.events import (
    ANNOTATION_CREATED,
    ANNOTATION_UPDATED,
    ANNOTATIONS_DELETED,
    Event,
    event_handler,
)
from labelops_common.jobs import JobContext, resources_of, run_job
from labelops_common.queue import labelops_task
from sqlalchemy.orm import Session

from storage_sync.jobs import StorageJobResources
from storage_sync.storages.models import IMPORT, Storage, SyncJob
from storage_sync.sync import exporting, importing, metrics
from storage_sync.sync.tasks import TasksRefused

logger = logging.getLogger(__name__)


def _retryable(error: BaseException) -> bool:
    return not isinstance(error, importing.SyncRefused | TasksRefused)


@labelops_task(
    name="storage-sync.sync_storage",
    queue="storage",
    job_model=SyncJob,
    resources=StorageJobResources,
)
def sync_storage(resources: StorageJobResources, job_id: int) -> str:
    """Claim and run one sync; the storage's status follows the job's outcome."""
    with resources.database.session() as session:
        job = session.get(SyncJob, job_id)
        if job is None:
            return "skipped"
        storage_id = job.storage_id
        storage = session.get(Storage, storage_id)
        kind = storage.type if storage else "unknown"
        direction = storage.direction if storage else IMPORT

    def body(context: JobContext) -> None:
        if direction == IMPORT:
            importing.run_import_sync(resources, storage_id, context)
        else:
            exporting.run_export_sync(resources, storage_id, context)

    status = run_job(
        session_factory=resources.database.new_session,
        model=SyncJob,
        job_id=job_id,
        body=body,
        retryable=_retryable,
    )
    if status in ("failed", "queued"):
        metrics.SYNC_ERRORS.labels(kind, f"{direction}_sync").inc()
        with resources.database.session() as session:
            job = session.get(SyncJob, job_id)
            importing.mark_failed(
                session,
                storage_id=storage_id,
                error=(job.error if job else None) or "The sync failed.",
                will_retry=status == "queued",
            )
            session.commit()
        if status == "queued":
            sync_storage.send(job_id, countdown=5)
    return status


@event_handler(ANNOTATION_CREATED, ANNOTATION_UPDATED, consumer="storage-sync")
def export_on_save(event: Event, session: Session) -> None:
    task_id = event.payload.get("task_id")
    if not isinstance(task_id, int):
        return
    # A batch of events shares one transaction: a project without export storages is
    # looked up once, not once per annotation.
    without_storages: set[int] = session.info.setdefault("projects_without_export_storages", set())
    if event.project_id in without_storages:
        return
    resources = resources_of(StorageJobResources)
    written = exporting.export_task_changes(
        resources, session, project_id=event.project_id, task_id=task_id, deleted=False
    )
    if not written:  # it writes to every export storage the project has, or raises
        without_storages.add(event.project_id)


@event_handler(ANNOTATIONS_DELETED, consumer="storage-sync")
def export_on_delete(event: Event, session: Session) -> None:
    task_id = event.payload.get("task_id")
    if not isinstance(task_id, int):
        return
    resources = resources_of(StorageJobResources)
    exporting.export_task_changes(
        resources, session, project_id=event.project_id, task_id=task_id, deleted=True
    )

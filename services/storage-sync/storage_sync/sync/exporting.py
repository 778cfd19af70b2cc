"""Export storages: one JSON object per annotated task, `<prefix>/<task id>.json`.

Written when task-svc says an annotation was created or updated (after its commit), and
by a sync, which writes every annotated task the storage does not hold yet. When an
annotation is deleted and the storage may delete objects (`can_delete_objects`), the
task's object is rewritten with the annotations left, or removed when none is left.

export-svc also hands its finished snapshot files here (`write_snapshot_object`): they go
under the storage's prefix as one object each, streamed through the storage's client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from labelops.task.v1 import task_pb2
from labelops_common.db import utcnow
from labelops_common.jobs import JobContext
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storage_sync.backends import StorageBackend, StorageConnectionError
from storage_sync.backends.base import ConnectContext
from storage_sync.jobs import StorageJobResources
from storage_sync.storages import service as storages
from storage_sync.storages.models import EXPORT, ExportedTask, Storage
from storage_sync.storages.secrets import SecretBox
from storage_sync.sync import metrics
from storage_sync.sync.importing import SyncRefused, listing_prefix
from storage_sync.sync.tasks import task_record

logger = logging.getLogger(__name__)


def object_key(storage: Storage, task_id: int) -> str:
    return f"{listing_prefix(storage)}{task_id}.json"


def export_storages(session: Session, project_id: int) -> list[Storage]:
    """The project's export storages, each locked `FOR KEY SHARE` until commit.

    Rewriting or removing an `ExportedTask` row checks no foreign key, so without this lock
    a transaction could hold a storage's rows without its storage: a delete of the storage
    would then take the storage, wait for those rows, and deadlock with the transaction's
    next new row (which waits for the storage). Locked first, the delete waits instead.
    """
    return list(
        session.scalars(
            select(Storage)
            .where(Storage.project_id == project_id, Storage.direction == EXPORT)
            .order_by(Storage.id)
            .with_for_update(read=True, key_share=True)
        )
    )


def lock_export_storage(session: Session, storage_id: int) -> bool:
    """Lock one export storage `FOR KEY SHARE` until commit (see `export_storages`);
    False if it was deleted."""
    return (
        session.scalar(
            select(Storage.id)
            .where(Storage.id == storage_id)
            .with_for_update(read=True, key_share=True)
        )
        is not None
    )


def write_task(
    session: Session, *, storage: Storage, backend: StorageBackend, task: task_pb2.Task
) -> str:
    """Write the task's object (replacing it) and record it."""
    key = object_key(storage, task.id)
    body = json.dumps(task_record(task), ensure_ascii=False).encode()
    backend.write(key, body)
    session.execute(
        insert(ExportedTask)
        .values(storage_id=storage.id, task_id=task.id, object_key=key, written_at=utcnow())
        .on_conflict_do_update(
            index_elements=["storage_id", "task_id"],
            set_={"object_key": key, "written_at": utcnow()},
        )
    )
    metrics.OBJECTS_EXPORTED.labels(storage.type).inc()
    return key


def remove_task(
    session: Session, *, storage: Storage, backend: StorageBackend, task_id: int
) -> None:
    backend.delete(object_key(storage, task_id))
    session.execute(
        delete(ExportedTask).where(
            ExportedTask.storage_id == storage.id, ExportedTask.task_id == task_id
        )
    )


def export_task_changes(
    resources: StorageJobResources,
    session: Session,
    *,
    project_id: int,
    task_id: int,
    deleted: bool,
) -> int:
    """Bring every export storage of the project up to date with one task; returns the
    number of storages written. A storage that fails raises (the event is retried)."""
    targets = export_storages(session, project_id)
    if deleted:
        targets = [storage for storage in targets if storage.can_delete_objects]
    if not targets:
        return 0
    found = resources.tasks.read(project_id, [task_id])
    task = found[0] if found else None
    written = 0
    for storage in targets:
        try:
            backend = storages.connect(storage, box=resources.box, context=resources.context)
            annotations = (
                json.loads(task.annotations_json) if task and task.annotations_json else []
            )
            if task is None or (deleted and not annotations):
                remove_task(session, storage=storage, backend=backend, task_id=task_id)
            else:
                write_task(session, storage=storage, backend=backend, task=task)
            written += 1
        except StorageConnectionError:
            metrics.SYNC_ERRORS.labels(storage.type, "export_on_save").inc()
            raise
    return written


def run_export_sync(resources: StorageJobResources, storage_id: int, context: JobContext) -> None:
    """Write every annotated task the storage does not hold yet."""
    database = resources.database
    with database.session() as session:
        storage = session.get(Storage, storage_id)
        if storage is None:
            raise SyncRefused("The storage was deleted.")
        storage.status = "in_progress"
        session.commit()
        session.expunge(storage)
    try:
        backend = storages.connect(storage, box=resources.box, context=resources.context)
    except StorageConnectionError as error:
        raise SyncRefused(error.reason) from None
    started = utcnow()
    written = seen = 0
    for batch in resources.tasks.stream(storage.project_id, only_annotated=True):
        seen += len(batch)
        with database.session() as session:
            if not lock_export_storage(session, storage.id):
                raise SyncRefused("The storage was deleted.")
            held = set(
                session.scalars(
                    select(ExportedTask.task_id).where(
                        ExportedTask.storage_id == storage.id,
                        ExportedTask.task_id.in_([task.id for task in batch]),
                    )
                )
            )
            for task in batch:
                if task.id not in held:
                    write_task(session, storage=storage, backend=backend, task=task)
                    written += 1
            session.commit()
        context.report_progress(seen)
    with database.session() as session:
        current = session.get(Storage, storage.id, with_for_update=True)
        if current is not None:
            now = utcnow()
            current.status = "completed"
            current.traceback = None
            current.last_sync = now
            current.last_sync_count = written
            meta = dict(current.meta or {})
            meta.update(
                time_completed=now.isoformat(),
                duration=(now - started).total_seconds(),
                tasks_seen=seen,
            )
            current.meta = meta
        session.commit()


# -------------------------------------------------------------------- snapshot files


def export_storage_in(session: Session, *, storage_id: int, organization_id: int) -> Storage | None:
    """The export storage `storage_id` if it belongs to the organization, else None (a
    storage of another organization is answered as missing, so its id reveals nothing)."""
    storage = session.get(Storage, storage_id)
    if storage is None or storage.direction != EXPORT or storage.organization_id != organization_id:
        return None
    return storage


def snapshot_object_name(name: str) -> str:
    """`name` as one safe object name (no folders, no `..`): export-svc chooses it, but
    a key that could leave the prefix is refused here all the same."""
    if not name or "/" in name or "\\" in name or "\x00" in name or name in (".", ".."):
        raise ValueError(f"invalid snapshot object name {name!r}")
    return name


class SnapshotIncomplete(Exception):
    """The stream did not carry the whole file; nothing was published."""


@dataclass(frozen=True)
class WrittenObject:
    key: str
    uri: str
    size: int
    md5: str


def write_snapshot_object(
    storage: Storage,
    *,
    name: str,
    chunks: Iterable[bytes],
    box: SecretBox,
    context: ConnectContext,
    expected_size: int | None = None,
) -> WrittenObject:
    """Stream `chunks` into `<prefix>/<name>` of the storage, published whole at the end
    (a failure aborts the upload: no partial object). StorageConnectionError says why the
    storage refused, never with a credential; SnapshotIncomplete when the bytes are not
    `expected_size` (a sender that stopped half-way publishes nothing)."""
    key = listing_prefix(storage) + snapshot_object_name(name)
    backend = storages.connect(storage, box=box, context=context)
    writer = backend.writer(key)
    try:
        writer.write_all(chunks)
        if expected_size is not None and writer.size != expected_size:
            raise SnapshotIncomplete(
                f"{writer.size} bytes arrived, the snapshot file has {expected_size}"
            )
        writer.commit()
    except BaseException:
        writer.abort()
        metrics.SYNC_ERRORS.labels(storage.type, "snapshot").inc()
        raise
    logger.info(
        "snapshot written to export storage",
        extra={"storage_id": storage.id, "object_key": key, "size": writer.size},
    )
    return WrittenObject(key=key, uri=backend.uri(key), size=writer.size, md5=writer.md5)

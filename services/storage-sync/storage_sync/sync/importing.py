"""An import sync: list the storage, turn new objects into tasks, remember them.

The work grows with what is new, not with the bucket:

* The listing resumes after `scan_checkpoint`, the last key a finished page handled, on
  backends that list in key order at no cost (S3 `StartAfter`, GCS `startOffset`, local
  directories). Objects added with keys sorting before it are found by the next full
  listing, which a sync does when `full_scan_interval_seconds` has passed since the last,
  or after a change of bucket, prefix, filter or depth. Azure and Redis list in full
  every time (no cheap resume) and rely on the second guard alone.
* Keys already imported (`imported_objects`, keyed by storage and object key) are dropped
  before anything is read.

Each listing page is one all-or-nothing `BulkCreateTasks` stream, then one local commit of
the page's object records and the checkpoint. A worker killed between the two leaves the
tasks without their records; the redelivered sync sends the same page again under the
same idempotency key (derived from the page's keys), which task-svc recognises and does
not apply twice, and task-svc also skips any task whose source key (the object's URI) the
project already holds. So a crash, a retry or two syncs at once never duplicate a task and
never lose one, and a sync failing half-way leaves whole pages of tasks, never half a task.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.jobs import JobContext
from sqlalchemy import Text, any_, bindparam, cast, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session

from storage_sync.backends import STORAGE_TYPES, StorageBackend, StorageConnectionError
from storage_sync.jobs import StorageJobResources
from storage_sync.storages import service as storages
from storage_sync.storages.models import ImportedObject, Storage
from storage_sync.sync import metrics
from storage_sync.sync.tasks import NewTask

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Label Studio's data key for an object when the config names none.
UNDEFINED_DATA_KEY = "$undefined$"
#: Keys per `IN (...)` lookup.
_LOOKUP_CHUNK = 1000


class SyncRefused(Exception):
    """The sync cannot succeed as configured (an object that is not tasks, a project gone):
    the storage shows the reason and no retry is attempted."""


@dataclass
class SyncTotals:
    listed: int = 0
    matched: int = 0
    objects: int = 0
    tasks: int = 0
    existed: int = 0
    pages: int = 0
    full_scan: bool = False
    errors: list[str] = field(default_factory=list)


def blob_data_key(project: ProjectInfo) -> str:
    """Where an object's URI goes in `data`: the config's first `$variable`."""
    if project.config is not None and project.config.data_keys:
        return project.config.data_keys[0]
    return UNDEFINED_DATA_KEY


def listing_prefix(storage: Storage) -> str:
    prefix = STORAGE_TYPES[storage.type].prefix_of(storage.settings or {})
    return prefix + "/" if prefix else ""


def page_idempotency_key(storage_id: int, keys: list[str]) -> str:
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:48]
    return f"storage-sync:{storage_id}:{digest}"


def tasks_of_object(backend: StorageBackend, key: str, *, max_bytes: int) -> list[dict[str, Any]]:
    """The tasks a JSON or JSONL object holds (Label Studio's task format)."""
    lower = key.lower()
    if not lower.endswith((".json", ".jsonl")):
        raise SyncRefused(
            f"{key}: only .json and .jsonl objects hold tasks; turn on "
            '"Treat every bucket object as a source file" (use_blob_urls) or filter the keys '
            "with regex_filter."
        )
    raw = backend.read(key)
    if len(raw) > max_bytes:
        raise SyncRefused(f"{key}: larger than {max_bytes} bytes.")
    try:
        text = raw.decode("utf-8-sig")
        if lower.endswith(".jsonl"):
            found: Any = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            found = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SyncRefused(f"{key}: not valid JSON ({error}).") from None
    items = found if isinstance(found, list) else [found]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise SyncRefused(f"{key}: item {index} is not a JSON object (a task).")
    return items


def new_task(item: dict[str, Any], *, source_key: str) -> NewTask:
    """A task item in Label Studio's format: `{"data": ..., "annotations": ...}` or bare data."""
    if isinstance(item.get("data"), dict):
        return NewTask(
            data=item["data"],
            source_key=source_key,
            annotations=item.get("annotations"),
            predictions=item.get("predictions"),
            meta=item.get("meta") if isinstance(item.get("meta"), dict) else None,
        )
    return NewTask(data=item, source_key=source_key)


def imported_keys(session: Session, storage_id: int, keys: list[str]) -> set[str]:
    """Which of `keys` the storage imported before: one primary-key probe per key, the
    keys sent as one array parameter."""
    found: set[str] = set()
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        chunk = keys[start : start + _LOOKUP_CHUNK]
        found.update(
            session.scalars(
                select(ImportedObject.object_key).where(
                    ImportedObject.storage_id == storage_id,
                    ImportedObject.object_key == any_(bindparam("keys", chunk, ARRAY(Text))),
                )
            )
        )
    return found


def _full_scan_due(storage: Storage, backend: StorageBackend, interval: float) -> bool:
    if not backend.resumable_listing or not storage.scan_checkpoint:
        return True
    if interval <= 0 or storage.full_scan_at is None:
        return True
    return utcnow() - storage.full_scan_at > timedelta(seconds=interval)


def run_import_sync(resources: StorageJobResources, storage_id: int, context: JobContext) -> None:
    database = resources.database
    with database.session() as session:
        storage = session.get(Storage, storage_id)
        if storage is None:
            raise SyncRefused("The storage was deleted.")
        mark_running(session, storage)
        session.commit()
        session.expunge(storage)
    project = resources.projects.get(storage.project_id)
    if project is None:
        raise SyncRefused("The project no longer exists.")
    try:
        backend = storages.connect(storage, box=resources.box, context=resources.context)
    except StorageConnectionError as error:
        raise SyncRefused(error.reason) from None
    totals = SyncTotals()
    totals.full_scan = _full_scan_due(
        storage, backend, resources.settings.full_scan_interval_seconds
    )
    regex = re.compile(storage.regex_filter) if storage.regex_filter else None
    data_key = blob_data_key(project)
    started = utcnow()
    pages = prefetched(
        lambda: backend.list_pages(
            listing_prefix(storage),
            start_after="" if totals.full_scan else storage.scan_checkpoint,
            recursive=storage.recursive_scan,
            page_size=resources.settings.listing_page_size,
        )
    )
    for page in _counted(pages, storage.type, totals):
        keys = [item.key for item in page if regex is None or regex.match(item.key)]
        totals.matched += len(keys)
        with database.session() as session:
            known = imported_keys(session, storage.id, keys)
        new_keys = [key for key in keys if key not in known]
        totals.existed += len(keys) - len(new_keys)
        tasks: list[NewTask] = []
        per_object: dict[str, int] = {}
        for key in new_keys:
            uri = backend.uri(key)
            if storage.use_blob_urls:
                found = [NewTask(data={data_key: uri}, source_key=uri)]
            else:
                items = tasks_of_object(
                    backend, key, max_bytes=resources.settings.max_task_object_bytes
                )
                found = [new_task(item, source_key=uri) for item in items]
            per_object[key] = len(found)
            tasks.extend(found)
        created = 0
        if tasks:
            created = resources.tasks.create(
                project.id, tasks, idempotency_key=page_idempotency_key(storage.id, new_keys)
            )
        totals.objects += len(new_keys)
        totals.tasks += created
        with database.session() as session:
            record_page(
                session,
                storage_id=storage.id,
                per_object=per_object,
                checkpoint=page[-1].key if backend.resumable_listing else None,
            )
            report_progress(session, storage_id=storage.id, totals=totals)
            session.commit()
        metrics.OBJECTS_SYNCED.labels(storage.type).inc(len(new_keys))
        metrics.TASKS_IMPORTED.labels(storage.type).inc(created)
        context.report_progress(totals.listed)
    with database.session() as session:
        finish(session, storage_id=storage.id, totals=totals, started=started)
        session.commit()
    logger.info(
        "import sync finished",
        extra={
            "storage_id": storage.id,
            "storage_type": storage.type,
            "objects_listed": totals.listed,
            "objects_imported": totals.objects,
            "tasks_created": totals.tasks,
            "full_scan": totals.full_scan,
        },
    )


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def prefetched(produce: Callable[[], Iterator[T]], *, depth: int = 2) -> Iterator[T]:
    """`produce()`'s items, read ahead on a thread of their own (at most `depth` waiting):
    the next listing page is fetched while this one's tasks are written. When the consumer
    stops early, the producer stops too."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def hand_over(item: Any) -> bool:
        while not stopped.is_set():
            try:
                handoff.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in produce():
                if not hand_over(item):
                    return
            hand_over(_END)
        except BaseException as error:
            hand_over(_Failed(error))

    threading.Thread(target=run, daemon=True, name="storage-listing").start()
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stopped.set()


def _counted(pages: Iterator[Any], kind: str, totals: SyncTotals) -> Iterator[Any]:
    listed = metrics.OBJECTS_LISTED.labels(kind)
    for page in pages:
        totals.listed += len(page)
        totals.pages += 1
        listed.inc(len(page))
        yield page


def record_page(
    session: Session, *, storage_id: int, per_object: dict[str, int], checkpoint: str | None
) -> None:
    """The page's objects as imported (one statement: the keys go as arrays), and the
    listing's checkpoint moved past the page (never backwards: a concurrent or older sync
    cannot undo a newer one's progress)."""
    if per_object:
        session.execute(
            text(
                "INSERT INTO imported_objects (storage_id, object_key, task_count, created_at)"
                " SELECT :storage_id, key, count, now()"
                " FROM unnest(CAST(:keys AS text[]), CAST(:counts AS integer[])) AS o(key, count)"
                " ON CONFLICT DO NOTHING"
            ),
            {
                "storage_id": storage_id,
                "keys": list(per_object),
                "counts": list(per_object.values()),
            },
        )
    if checkpoint is not None:
        session.execute(
            update(Storage)
            .where(Storage.id == storage_id, Storage.scan_checkpoint < checkpoint)
            .values(scan_checkpoint=checkpoint)
        )


def report_progress(session: Session, *, storage_id: int, totals: SyncTotals) -> None:
    """How far the running sync is, with the page that got there, as Label Studio reports
    it: `last_sync_count` (tasks created so far), `meta.tasks_existed` and a ping time, plus
    the objects listed and imported."""
    progress = {
        "time_last_ping": utcnow().isoformat(),
        "tasks_existed": totals.existed,
        "objects_listed": totals.listed,
        "objects_imported": totals.objects,
    }
    session.execute(
        update(Storage)
        .where(Storage.id == storage_id)
        .values(
            last_sync_count=totals.tasks,
            meta=func.coalesce(Storage.meta, cast({}, JSONB)).op("||")(cast(progress, JSONB)),
        )
    )


def mark_running(session: Session, storage: Storage) -> None:
    now = utcnow()
    storage.status = "in_progress"
    storage.traceback = None
    meta = dict(storage.meta or {})
    meta.update(time_in_progress=now.isoformat(), time_last_ping=now.isoformat())
    storage.meta = meta


def finish(session: Session, *, storage_id: int, totals: SyncTotals, started: Any) -> None:
    storage = session.get(Storage, storage_id, with_for_update=True)
    if storage is None:
        return
    now = utcnow()
    storage.status = "completed"
    storage.traceback = None
    storage.last_sync = now
    storage.last_sync_count = totals.tasks
    if totals.full_scan:
        storage.full_scan_at = started
    meta = dict(storage.meta or {})
    meta.update(
        time_completed=now.isoformat(),
        duration=(now - started).total_seconds(),
        objects_listed=totals.listed,
        objects_matched=totals.matched,
        objects_imported=totals.objects,
        tasks_existed=totals.existed,
        full_scan=totals.full_scan,
    )
    storage.meta = meta


def mark_failed(session: Session, *, storage_id: int, error: str, will_retry: bool) -> None:
    storage = session.get(Storage, storage_id, with_for_update=True)
    if storage is None:
        return
    now = utcnow()
    storage.status = "queued" if will_retry else "failed"
    storage.traceback = error
    meta = dict(storage.meta or {})
    meta["time_failure"] = now.isoformat()
    storage.meta = meta

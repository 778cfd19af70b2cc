"""Tasks in bulk for other services: create from a stream, read out, upsert predictions.

These back task-svc's gRPC `TaskService` (storage sync, imports, exports, ml-gateway);
`task_svc.rpc` turns its messages into the plain values these functions take. The callers are services, not people: there is no principal, the project id is trusted
to exist only once project-svc confirms it. Like every service module, nothing here
commits except where a page boundary ends a read-only transaction (`stream_task_pages`).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.labelconfig import validate_result
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Row,
    Select,
    Text,
    any_,
    bindparam,
    cast,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from task_svc.annotations.models import Annotation
from task_svc.bulk.models import AppliedBatch
from task_svc.counts import service as counts
from task_svc.datamanager.filters import FilterError, compile_filters, compile_selected_items
from task_svc.datamanager.models import View
from task_svc.events import publisher
from task_svc.imports.validation import ImportItemError
from task_svc.imports.writer import write_tasks
from task_svc.predictions.models import Prediction
from task_svc.tasks.models import Task

#: `BulkCreateSummary.task_ids` lists the new ids only up to this many (else it is empty).
MAX_SUMMARY_IDS = 10_000
DEFAULT_STREAM_BATCH = 1000
MAX_STREAM_BATCH = 10_000
MAX_IDEMPOTENCY_KEY = 255
MAX_MODEL_VERSION = 255
#: Ids per `IN (...)` list: well under PostgreSQL's parameter limit.
_IN_CHUNK = 1000
UNDEFINED_MODEL_VERSION = "undefined"


class BulkError(Exception):
    """A request the RPC must refuse; `kind` picks the gRPC status."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(message)


def _chunks(values: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ------------------------------------------------------------------------ BulkCreateTasks


@dataclass
class BulkSummary:
    task_count: int = 0
    annotation_count: int = 0
    prediction_count: int = 0
    #: New task ids in stream order; None once there are more than MAX_SUMMARY_IDS.
    task_ids: list[int] | None = field(default_factory=list)
    first_task_id: int | None = None
    last_task_id: int | None = None
    #: Items left out because a task with their source_key existed before the stream.
    skipped_existing: int = 0
    #: Batches skipped because their (idempotency key, index) was already applied.
    skipped_batches: int = 0

    def add(self, *, tasks: int, annotations: int, predictions: int, ids: Sequence[int]) -> None:
        self.task_count += tasks
        self.annotation_count += annotations
        self.prediction_count += predictions
        if ids:
            self.first_task_id = ids[0] if self.first_task_id is None else self.first_task_id
            self.last_task_id = ids[-1]
        if self.task_ids is not None:
            if len(self.task_ids) + len(ids) > MAX_SUMMARY_IDS:
                self.task_ids = None
            else:
                self.task_ids.extend(int(task_id) for task_id in ids)


def _json_field(raw: bytes, index: int, name: str, *, kind: type) -> Any:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ImportItemError(index, name, f"Not valid UTF-8 JSON: {error}.") from None
    if value is not None and not isinstance(value, kind):
        noun = "a JSON object" if kind is dict else "a JSON list"
        raise ImportItemError(index, name, f"Must be {noun}.")
    return value


@dataclass(frozen=True)
class TaskItem:
    """One task as a caller sends it: JSON documents still encoded (empty: absent)."""

    data_json: bytes
    project_id: int = 0
    meta_json: bytes = b""
    annotations_json: bytes = b""
    predictions_json: bytes = b""
    source_key: str = ""


@dataclass(frozen=True)
class TaskBatch:
    """One batch of a stream; `idempotency_key` ('' for none) makes a retry harmless."""

    project_id: int
    tasks: Sequence[TaskItem]
    idempotency_key: str = ""


def decode_task(sent: TaskItem, index: int, *, project_id: int) -> dict[str, Any]:
    """A task item as the Label Studio task dict the writer takes."""
    if sent.project_id and sent.project_id != project_id:
        raise ImportItemError(
            index, "project_id", f"Is {sent.project_id}, the batch's project is {project_id}."
        )
    if not sent.data_json:
        raise ImportItemError(index, "data", "data_json is required (a JSON object).")
    item: dict[str, Any] = {"data": _json_field(sent.data_json, index, "data", kind=dict)}
    if sent.meta_json:
        item["meta"] = _json_field(sent.meta_json, index, "meta", kind=dict)
    if sent.annotations_json:
        item["annotations"] = _json_field(sent.annotations_json, index, "annotations", kind=list)
    if sent.predictions_json:
        item["predictions"] = _json_field(sent.predictions_json, index, "predictions", kind=list)
    if sent.source_key:
        item["source_key"] = sent.source_key
    return item


def _existing_source_keys(
    session: Session, *, project_id: int, keys: set[str], up_to_id: int | None
) -> set[str]:
    """Which of `keys` tasks created before the stream (id <= `up_to_id`) already carry."""
    if up_to_id is None or not keys:
        return set()
    found: set[str] = set()
    for chunk in _chunks(sorted(keys)):
        found.update(
            session.scalars(
                select(Task.source_key).where(
                    Task.project_id == project_id,
                    Task.source_key.in_(list(chunk)),
                    Task.id <= up_to_id,
                )
            )
        )
    return found


def _item_error(error: ImportItemError, batch_index: int) -> BulkError:
    return BulkError(BulkError.INVALID, f"batch {batch_index}: {error.message}")


def create_tasks_from_batches(
    session: Session,
    *,
    project: ProjectInfo,
    batches: Iterable[TaskBatch],
    skip_existing_source_keys: bool = True,
) -> BulkSummary:
    """Write every batch's tasks in the caller's transaction, all or nothing.

    * A batch with an idempotency key whose (project, key, batch index) was applied
      before is skipped; its recorded counts and ids still make up the summary, so a
      retried stream answers as the first did and creates nothing new.
    * An item whose `source_key` a task of the project carried before this stream began
      is skipped (storage re-syncs); items of this stream sharing a key are all written.
    * A bad item raises BulkError naming its index in the stream and the reason.
    Memory is bounded by one batch (and the summary's ids, capped at MAX_SUMMARY_IDS).
    """
    summary = BulkSummary()
    new_tasks = _NewTasks()
    before_id: int | None = None
    if skip_existing_source_keys:
        before_id = session.scalar(select(func.max(Task.id)).where(Task.project_id == project.id))
    offset = 0
    for batch_index, batch in enumerate(batches):
        _check_batch(batch, batch_index, project_id=project.id)
        record: AppliedBatch | None = None
        if batch.idempotency_key:
            applied = _applied_batch(session, project.id, batch.idempotency_key, batch_index)
            if applied is not None:
                summary.skipped_batches += 1
                summary.add(
                    tasks=applied.task_count,
                    annotations=applied.annotation_count,
                    predictions=applied.prediction_count,
                    ids=list(applied.task_ids or []),
                )
                offset += len(batch.tasks)
                continue
            record = _claim_batch(session, project.id, batch.idempotency_key, batch_index)
        ids = _write_batch(
            session,
            project=project,
            batch=batch,
            batch_index=batch_index,
            offset=offset,
            before_id=before_id,
            summary=summary,
            record=record,
        )
        new_tasks.add(ids)
        offset += len(batch.tasks)
    if new_tasks.count:
        publisher.publish_after_commit(
            session,
            publisher.TASKS_CREATED,
            project_id=project.id,
            payload=publisher.tasks_payload(
                task_count=new_tasks.count,
                task_ids=new_tasks.ids,
                first_task_id=new_tasks.first,
                last_task_id=new_tasks.last,
            ),
        )
    return summary


def _check_batch(batch: TaskBatch, batch_index: int, *, project_id: int) -> None:
    if batch.project_id != project_id:
        raise BulkError(
            BulkError.INVALID,
            f"batch {batch_index}: project_id is {batch.project_id}, "
            f"the stream's project is {project_id}",
        )
    if len(batch.idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise BulkError(
            BulkError.INVALID,
            f"batch {batch_index}: idempotency_key is longer than {MAX_IDEMPOTENCY_KEY}",
        )


def _applied_batch(
    session: Session, project_id: int, key: str, batch_index: int
) -> AppliedBatch | None:
    """The record of this (key, batch index) if an earlier stream applied it."""
    return session.scalar(
        select(AppliedBatch).where(
            AppliedBatch.project_id == project_id,
            AppliedBatch.idempotency_key == key,
            AppliedBatch.batch_index == batch_index,
        )
    )


def _claim_batch(session: Session, project_id: int, key: str, batch_index: int) -> AppliedBatch:
    """Record the batch as applied (filled in once written); a concurrent stream with the
    same key waits on the unique index, then fails with CONFLICT."""
    record = AppliedBatch(
        project_id=project_id,
        idempotency_key=key,
        batch_index=batch_index,
        task_ids=[],
        created_at=utcnow(),
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        raise BulkError(
            BulkError.CONFLICT,
            f"batch {batch_index} of idempotency key {key!r} is being applied by another stream",
        ) from None
    return record


def _write_batch(
    session: Session,
    *,
    project: ProjectInfo,
    batch: TaskBatch,
    batch_index: int,
    offset: int,
    before_id: int | None,
    summary: BulkSummary,
    record: AppliedBatch | None,
) -> list[int]:
    """Decode and write one batch (less the items whose source key existed before the
    stream); add it to the summary and its record. Returns the new task ids."""
    try:
        items = [
            decode_task(message, offset + position, project_id=project.id)
            for position, message in enumerate(batch.tasks)
        ]
    except ImportItemError as error:
        raise _item_error(error, batch_index) from None
    positions = list(range(len(items)))
    if before_id is not None:
        existing = _existing_source_keys(
            session,
            project_id=project.id,
            keys={item["source_key"] for item in items if "source_key" in item},
            up_to_id=before_id,
        )
        if existing:
            kept = [
                position
                for position, item in enumerate(items)
                if item.get("source_key") not in existing
            ]
            summary.skipped_existing += len(items) - len(kept)
            items = [items[position] for position in kept]
            positions = kept
    try:
        written = write_tasks(
            session,
            project=project,
            items=items,
            user_id=None,
            return_task_ids=True,
            batch_size=max(len(items), 1),
        )
    except ImportItemError as error:
        # The writer counts from 0 over the items it was given; name the stream index.
        raise _item_error(
            ImportItemError(offset + positions[error.index], error.field, error.reason),
            batch_index,
        ) from None
    ids = written.task_ids or []
    summary.add(
        tasks=written.task_count,
        annotations=written.annotation_count,
        predictions=written.prediction_count,
        ids=ids,
    )
    if record is not None:
        record.task_count = written.task_count
        record.annotation_count = written.annotation_count
        record.prediction_count = written.prediction_count
        record.task_ids = list(ids)
    return ids


@dataclass
class _NewTasks:
    """What this call created (not what skipped batches had), for the TASKS_CREATED event."""

    count: int = 0
    first: int | None = None
    last: int | None = None
    ids: list[int] | None = field(default_factory=list)

    def add(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        self.count += len(ids)
        self.first = min(ids) if self.first is None else min(self.first, *ids)
        self.last = max(ids) if self.last is None else max(self.last, *ids)
        if self.ids is not None:
            self.ids = (
                None if len(self.ids) + len(ids) > publisher.MAX_PAYLOAD_IDS else [*self.ids, *ids]
            )


# ------------------------------------------------------------------------ StreamTasks


@dataclass(frozen=True)
class StreamQuery:
    project_id: int
    only_annotated: bool = False
    task_ids: tuple[int, ...] = ()
    view_id: int = 0
    batch_size: int = DEFAULT_STREAM_BATCH
    include_annotations: bool = False
    include_predictions: bool = False


@dataclass
class TaskPage:
    """One page as rows of `stream_columns`: each task's JSON documents, and its annotations
    and predictions as JSON arrays, are text PostgreSQL wrote. Nothing is decoded or built
    in Python, so a million-task export costs task-svc little more than the bytes."""

    tasks: list[Row[Any]]


#: Label Studio's datetime format (`labelops_common.http.answers.timestamp`), in SQL.
_TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def _timestamp(column: Any) -> Any:
    return func.to_char(column, _TIMESTAMP_FORMAT)


def _json_array(model: Any, fields: dict[str, Any], name: str) -> Any:
    """The task's `model` rows as one JSON array of `fields` objects, in id order ('[]' if none)."""
    pairs = [part for key, value in fields.items() for part in (literal(key), value)]
    rows = func.json_agg(aggregate_order_by(func.json_build_object(*pairs), model.id))
    found = select(cast(rows, Text)).where(model.task_id == Task.id).scalar_subquery()
    return func.coalesce(found, "[]").label(name)


#: `annotation_fields`, as SQL (a test holds the two to the same answer).
STREAM_ANNOTATION_FIELDS: dict[str, Any] = {
    "id": Annotation.id,
    "result": func.coalesce(Annotation.result, cast("[]", JSONB)),
    "task": Annotation.task_id,
    "project": Annotation.project_id,
    "completed_by": Annotation.completed_by_id,
    "updated_by": Annotation.updated_by_id,
    "was_cancelled": Annotation.was_cancelled,
    "ground_truth": Annotation.ground_truth,
    "created_at": _timestamp(Annotation.created_at),
    "updated_at": _timestamp(Annotation.updated_at),
    "draft_created_at": _timestamp(Annotation.draft_created_at),
    "lead_time": Annotation.lead_time,
    "parent_prediction": Annotation.parent_prediction_id,
    "parent_annotation": Annotation.parent_annotation_id,
    "import_id": Annotation.import_id,
    "last_action": Annotation.last_action,
    "last_created_by": null(),
    "bulk_created": Annotation.bulk_created,
    "unique_id": Annotation.unique_id,
}
#: `prediction_fields`, as SQL.
STREAM_PREDICTION_FIELDS: dict[str, Any] = {
    "id": Prediction.id,
    "task": Prediction.task_id,
    "project": Prediction.project_id,
    "result": func.coalesce(Prediction.result, cast("[]", JSONB)),
    "score": Prediction.score,
    "model_version": Prediction.model_version,
    "model": null(),
    "model_run": null(),
    "cluster": null(),
    "neighbors": null(),
    "mislabeling": Prediction.mislabeling,
    "created_at": _timestamp(Prediction.created_at),
    "updated_at": _timestamp(Prediction.updated_at),
}


@functools.cache
def stream_columns(*, annotations: bool, predictions: bool) -> tuple[Any, ...]:
    """The columns of a stream's rows. Built once per shape: the JSON aggregates are large
    expressions, and building them cost more than reading a few tasks (webhook deliveries
    read one task at a time)."""
    columns: list[Any] = [
        Task.id,
        Task.project_id,
        cast(Task.data, Text).label("data_json"),
        cast(Task.meta, Text).label("meta_json"),
        Task.inner_id,
        Task.source_key,
    ]
    if annotations:
        columns.append(_json_array(Annotation, STREAM_ANNOTATION_FIELDS, "annotations_json"))
    if predictions:
        columns.append(_json_array(Prediction, STREAM_PREDICTION_FIELDS, "predictions_json"))
    return tuple(columns)


def stream_batch_size(requested: int) -> int:
    if requested < 0 or requested > MAX_STREAM_BATCH:
        raise BulkError(
            BulkError.INVALID, f"batch_size must be between 1 and {MAX_STREAM_BATCH} (0: default)"
        )
    return requested or DEFAULT_STREAM_BATCH


def _view_conditions(session: Session, query: StreamQuery) -> list[ColumnElement[bool]]:
    """What narrows the stream beyond its project: annotated tasks only, a view's filters."""
    where: list[ColumnElement[bool]] = []
    if query.only_annotated:
        # Any annotation, submitted or skipped (Label Studio's "only annotated" export).
        where.append(or_(Task.total_annotations > 0, Task.cancelled_annotations > 0))
    if query.view_id:
        view = session.get(View, query.view_id)
        if view is None or view.project_id != query.project_id:
            raise BulkError(
                BulkError.NOT_FOUND, f"view {query.view_id} not found in project {query.project_id}"
            )
        try:
            condition = compile_filters(view.filters)
            selected = compile_selected_items(view.selected_items)
        except FilterError as error:
            raise BulkError(
                BulkError.INVALID, f"view {view.id}: {error.field}: {error.reason}"
            ) from None
        where.extend(c for c in (condition, selected) if c is not None)
    return where


@functools.cache
def _tasks_by_id(*, annotations: bool, predictions: bool) -> Select[Any]:
    """Tasks of a project by id, one statement object per shape: SQLAlchemy computes a
    statement's cache key once per object, and for these JSON aggregates that cost more
    than reading a task (webhook deliveries read a handful at a time)."""
    return (
        select(*stream_columns(annotations=annotations, predictions=predictions))
        .where(
            Task.project_id == bindparam("project_id"),
            Task.id == any_(bindparam("task_ids", type_=ARRAY(BigInteger))),
        )
        .order_by(Task.id)
    )


def stream_task_pages(session: Session, query: StreamQuery) -> Iterator[TaskPage]:
    """The tasks matching `query` in id order, one page at a time (keyset, never OFFSET).

    A view contributes its filters and selected items; its ordering does not apply
    (pages follow task ids). Each page is read in its own short transaction: after a page
    is consumed the session rolls back (nothing was written) and forgets its objects, so
    memory and snapshot age stay bounded by one page, however many tasks there are.
    """
    size = stream_batch_size(query.batch_size)
    narrowed = _view_conditions(session, query)
    if query.task_ids:
        # The requested ids in order, `size` at a time (a page may come out smaller).
        by_id = _tasks_by_id(
            annotations=query.include_annotations, predictions=query.include_predictions
        )
        if narrowed:
            by_id = by_id.where(*narrowed)
        for chunk in _chunks(sorted(set(query.task_ids)), size):
            parameters = {"project_id": query.project_id, "task_ids": list(chunk)}
            tasks = list(session.connection().execute(by_id, parameters))
            if tasks:
                yield TaskPage(tasks=tasks)
            _end_page(session)
        return
    columns = stream_columns(
        annotations=query.include_annotations, predictions=query.include_predictions
    )
    where = [Task.project_id == query.project_id, *narrowed]
    last_id = 0
    while True:
        statement = select(*columns).where(*where, Task.id > last_id).order_by(Task.id).limit(size)
        tasks = list(session.connection().execute(statement))
        if not tasks:
            return
        last_id = tasks[-1].id
        yield TaskPage(tasks=tasks)
        _end_page(session)
        if len(tasks) < size:
            return


def _end_page(session: Session) -> None:
    """End the page's read-only transaction and forget its rows."""
    session.rollback()
    session.expunge_all()


# ------------------------------------------------------------------------ UpsertPredictions


@dataclass(frozen=True)
class PredictionInput:
    task_id: int
    result: list[Any]
    score: float | None
    model_version: str


def decode_prediction(
    index: int,
    *,
    project: ProjectInfo,
    task_id: int,
    result_json: bytes,
    score: float | None,
    model_version: str,
) -> PredictionInput:
    """A prediction as a caller sends it (`result_json` encoded, b'' for none), checked."""
    where = f"predictions[{index}]"
    if task_id <= 0:
        raise BulkError(BulkError.INVALID, f"{where}.task_id: is required")
    try:
        result = json.loads(result_json) if result_json else []
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BulkError(BulkError.INVALID, f"{where}.result: not valid JSON: {error}") from None
    if isinstance(result, dict):
        result = [result]
    if not isinstance(result, list):
        raise BulkError(BulkError.INVALID, f"{where}.result: must be a list of regions")
    if project.config is not None:
        problems = validate_result(project.config, result)
        if problems:
            raise BulkError(BulkError.INVALID, f"{where}.{problems[0]}")
    if score is not None:
        if not math.isfinite(score):
            raise BulkError(BulkError.INVALID, f"{where}.score: must be a finite number")
        score = float(score)
    model_version = model_version or project.model_version or UNDEFINED_MODEL_VERSION
    if len(model_version) > MAX_MODEL_VERSION:
        raise BulkError(
            BulkError.INVALID, f"{where}.model_version: at most {MAX_MODEL_VERSION} characters"
        )
    try:
        json.dumps(result, allow_nan=False)
    except ValueError:
        raise BulkError(
            BulkError.INVALID, f"{where}.result: NaN and Infinity are not valid JSON"
        ) from None
    return PredictionInput(
        task_id=int(task_id), result=result, score=score, model_version=model_version
    )


def _lock_tasks(session: Session, *, project_id: int, task_ids: list[int]) -> dict[int, Task]:
    """The project's tasks among `task_ids`, locked (in id order, so no deadlock) until commit."""
    found: dict[int, Task] = {}
    for chunk in _chunks(task_ids):
        for task in session.scalars(
            select(Task)
            .where(Task.project_id == project_id, Task.id.in_(list(chunk)))
            .order_by(Task.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ):
            found[task.id] = task
    return found


def upsert_predictions(
    session: Session, *, project: ProjectInfo, predictions: Sequence[PredictionInput]
) -> tuple[int, int]:
    """Create or update one prediction per (task, model version); returns (created, updated).

    Every task must belong to `project`, else nothing is written (BulkError naming the
    first offender). When a task already holds several predictions of the model version,
    the newest is updated. Within one request a later entry for the same pair wins. Task
    counters (`total_predictions`, `predictions_score`) and the project's prediction
    counter are recounted exactly for the touched tasks, in bulk.
    """
    if not predictions:
        return 0, 0
    task_ids = sorted({prediction.task_id for prediction in predictions})
    tasks = _lock_tasks(session, project_id=project.id, task_ids=task_ids)
    for index, prediction in enumerate(predictions):
        if prediction.task_id not in tasks:
            raise BulkError(
                BulkError.INVALID,
                f"predictions[{index}].task_id: task {prediction.task_id} "
                f"is not in project {project.id}",
            )
    versions = sorted({prediction.model_version for prediction in predictions})
    existing: dict[tuple[int, str], Prediction] = {}
    for chunk in _chunks(task_ids):
        for row in session.scalars(
            select(Prediction)
            .where(Prediction.task_id.in_(list(chunk)), Prediction.model_version.in_(versions))
            .order_by(Prediction.id)
        ):
            existing[(row.task_id, row.model_version)] = row  # the newest wins
    now = utcnow()
    created = updated = 0
    for prediction in predictions:
        pair = (prediction.task_id, prediction.model_version)
        found = existing.get(pair)
        if found is None:
            row = Prediction(
                task_id=prediction.task_id,
                project_id=project.id,
                result=prediction.result,
                score=prediction.score,
                model_version=prediction.model_version,
                mislabeling=0.0,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            existing[pair] = row
            created += 1
        else:
            found.result = prediction.result
            found.score = prediction.score
            found.updated_at = now
            updated += 1
    session.flush()
    counts.recount_predictions(session, project_id=project.id, task_ids=sorted(tasks))
    return created, updated

"""Tasks to export: task-svc's `StreamTasks` read batch by batch, turned into Label Studio's records.

Nothing here holds more than one batch: the gRPC stream is consumed as it arrives and each
task becomes one JSON-ready record (Label Studio's export shape) before the next is read.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import grpc
import orjson
from labelops.task.v1 import task_pb2, task_pb2_grpc
from labelops_common.grpcutil import PeerError, grpc_channel, peer_error, peer_stub
from labelops_common.http.errors import NotFound, ValidationFailed
from labelops_common.settings import CommonSettings

T = TypeVar("T")

logger = logging.getLogger(__name__)

#: Label Studio's JSON export keeps these task fields; task-svc's stream does not carry
#: timestamps, uploads or comments, so they are exported empty.
_EMPTY_TASK_FIELDS: dict[str, Any] = {
    "created_at": None,
    "updated_at": None,
    "allow_skip": True,
    "comment_count": 0,
    "unresolved_comment_count": 0,
    "last_comment_updated_at": None,
    "updated_by": None,
    "comment_authors": [],
}


class Presence(StrEnum):
    """Label Studio's `only` / `exclude` task filter values."""

    ONLY = "only"
    EXCLUDE = "exclude"


@dataclass(frozen=True)
class TaskSelection:
    """Which tasks: all, only annotated ones, some ids, or a data manager view's."""

    project_id: int
    only_annotated: bool = False
    task_ids: tuple[int, ...] = ()
    view_id: int = 0
    skipped: Presence | None = None
    annotated: Presence | None = None
    finished: Presence | None = None


@dataclass(frozen=True)
class AnnotationFilter:
    """Label Studio's `annotation_filter_options`: an annotation is kept if any chosen kind matches."""

    usual: bool = False
    ground_truth: bool = False
    skipped: bool = False

    def keeps(self, annotation: dict[str, Any]) -> bool:
        cancelled = bool(annotation.get("was_cancelled"))
        ground_truth = bool(annotation.get("ground_truth"))
        return (
            (self.usual and not cancelled and not ground_truth)
            or (self.ground_truth and ground_truth)
            or (self.skipped and cancelled)
        )

    @property
    def chosen(self) -> bool:
        return self.usual or self.ground_truth or self.skipped


@dataclass(frozen=True)
class Serialization:
    """How records are written (Label Studio's `serialization_options`)."""

    predictions_as_ids: bool = True
    completed_by_as_id: bool = True
    annotation_filter: AnnotationFilter | None = None


UsersLookup = Callable[[Iterable[int | None]], dict[int, dict[str, Any]]]


class TaskSource:
    """Reads a project's tasks from task-svc, one `StreamTasks` batch at a time."""

    def __init__(self, common: CommonSettings, *, batch_size: int, deadline_seconds: float) -> None:
        self._common = common
        self._batch_size = batch_size
        self._deadline = deadline_seconds

    def batches(self, selection: TaskSelection) -> Iterator[list[task_pb2.Task]]:
        """The selected tasks, batch by batch; errors are API errors (404, 400, 503)."""
        # Its own channel without retries: a long stream is retried as a whole job.
        channel = grpc_channel(self._common.peer_address("task-svc"), retries=False)
        stub = task_pb2_grpc.TaskServiceStub(channel)
        request = task_pb2.StreamTasksRequest(
            project_id=selection.project_id,
            only_annotated=selection.only_annotated,
            task_ids=list(selection.task_ids),
            view_id=selection.view_id,
            batch_size=self._batch_size,
            include_annotations=True,
            include_predictions=True,
        )
        return pumped(lambda: self._read(stub, request, selection))

    def count(self, selection: TaskSelection) -> int | None:
        """How many tasks the selection can yield at most (task-svc's counters), for progress;
        None when task-svc cannot say. Filters applied while streaming (a view, skipped,
        finished) can only make the real number smaller."""
        if selection.task_ids:
            return len(set(selection.task_ids))
        try:
            stub = peer_stub(
                task_pb2_grpc.TaskServiceStub,
                target=self._common.peer_address("task-svc"),
                deadline_seconds=self._common.grpc_deadline_seconds,
            )
            answer = stub.GetProjectCounts(
                task_pb2.GetProjectCountsRequest(project_ids=[selection.project_id])
            )
        except (grpc.RpcError, PeerError):
            logger.warning("task counts unavailable", extra={"project_id": selection.project_id})
            return None
        for counts in answer.counts:
            if counts.project_id == selection.project_id:
                if selection.only_annotated:
                    return int(counts.num_tasks_with_annotations)
                return int(counts.task_number)
        return 0

    def _read(
        self, stub: Any, request: task_pb2.StreamTasksRequest, selection: TaskSelection
    ) -> Iterator[list[task_pb2.Task]]:
        call = stub.StreamTasks(request, timeout=self._deadline)
        try:
            for batch in call:
                yield list(batch.tasks)
        except grpc.RpcError as exc:
            code = exc.code()
            if code == grpc.StatusCode.NOT_FOUND and selection.view_id:
                raise ValidationFailed({"view": [f"View {selection.view_id} not found."]}) from None
            if code == grpc.StatusCode.NOT_FOUND:
                raise NotFound() from None
            if code == grpc.StatusCode.INVALID_ARGUMENT:
                raise ValidationFailed({"task_filter_options": [str(exc.details())]}) from None
            raise peer_error("task-svc", exc) from None
        finally:
            cancel = getattr(call, "cancel", None)
            if cancel is not None:
                cancel()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def pumped(produce: Callable[[], Iterator[T]], *, depth: int = 4) -> Iterator[T]:
    """`produce()`'s items, read on one thread of its own and handed over a bounded queue.

    A streaming HTTP response asks for each chunk from whichever worker thread is free,
    but a gRPC server stream (and the trace span around it) must be read from one thread
    and context. The queue's bound keeps at most `depth` batches in memory; when the
    consumer stops early, the producer stops too and the RPC is cancelled.
    """
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
        items = produce()
        try:
            for item in items:
                if not hand_over(item):
                    return
            hand_over(_END)
        except BaseException as error:
            hand_over(_Failed(error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    threading.Thread(target=run, daemon=True, name="export-task-stream").start()

    def consume() -> Iterator[T]:
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

    return consume()


def started(iterator: Iterator[T]) -> Iterator[T]:
    """Pull the first item now, so a failure to start surfaces before a response begins."""
    try:
        first = next(iterator)
    except StopIteration:
        return iter(())
    return itertools.chain([first], iterator)


def _loads(raw: bytes, default: Any) -> Any:
    return orjson.loads(raw) if raw else default


def _passes(selection: TaskSelection, annotations: list[dict[str, Any]], overlap: int) -> bool:
    cancelled = sum(1 for a in annotations if a.get("was_cancelled"))
    submitted = len(annotations) - cancelled
    checks = (
        (selection.skipped, cancelled > 0),
        (selection.annotated, submitted > 0),
        (selection.finished, submitted >= overlap),
    )
    for wanted, present in checks:
        if wanted == Presence.ONLY and not present:
            return False
        if wanted == Presence.EXCLUDE and present:
            return False
    return True


def export_records(
    batches: Iterable[list[task_pb2.Task]],
    *,
    selection: TaskSelection,
    serialization: Serialization,
    overlap: int = 1,
    users: UsersLookup | None = None,
) -> Iterator[dict[str, Any]]:
    """Label Studio's JSON export record per task, in task id order."""
    for batch in batches:
        decoded = [
            (task, _loads(task.annotations_json, []), _loads(task.predictions_json, []))
            for task in batch
        ]
        people: dict[int, dict[str, Any]] = {}
        if not serialization.completed_by_as_id and users is not None:
            people = users(a.get("completed_by") for _, found, _ in decoded for a in found)
        for task, found, predictions in decoded:
            if not _passes(selection, found, overlap):
                continue
            yield task_record(
                task,
                annotations=found,
                predictions=predictions,
                serialization=serialization,
                people=people,
            )


def task_record(
    task: task_pb2.Task,
    *,
    annotations: list[dict[str, Any]],
    predictions: list[dict[str, Any]],
    serialization: Serialization,
    people: dict[int, dict[str, Any]],
) -> dict[str, Any]:
    cancelled = sum(1 for a in annotations if a.get("was_cancelled"))
    total = len(annotations) - cancelled
    kept = annotations
    if serialization.annotation_filter is not None and serialization.annotation_filter.chosen:
        kept = [a for a in annotations if serialization.annotation_filter.keeps(a)]
    record: dict[str, Any] = {
        "id": task.id,
        "annotations": [_annotation(a, serialization, people) for a in kept],
        "drafts": [],
        "predictions": [p["id"] for p in predictions]
        if serialization.predictions_as_ids
        else predictions,
        "data": _loads(task.data_json, {}),
        "meta": _loads(task.meta_json, {}),
        "inner_id": task.inner_id,
        "total_annotations": total,
        "cancelled_annotations": cancelled,
        "total_predictions": len(predictions),
        "project": task.project_id,
        **_EMPTY_TASK_FIELDS,
    }
    return record


def _annotation(
    annotation: dict[str, Any], serialization: Serialization, people: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    result = annotation.get("result") or []
    exported = {
        **annotation,
        "result": result,
        "prediction": annotation.get("prediction") or {},
        "result_count": len(result) if isinstance(result, list) else 0,
    }
    author = annotation.get("completed_by")
    if not serialization.completed_by_as_id and author:
        person = people.get(author, {"id": author})
        exported["completed_by"] = {
            key: person.get(key) for key in ("id", "email", "first_name", "last_name")
        }
    return exported

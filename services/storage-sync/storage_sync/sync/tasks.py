"""task-svc as storage sync sees it: tasks written in bulk, tasks read back by id.

Both go over task-svc's gRPC `TaskService`; storage-sync never reads task-svc's tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from labelops.task.v1 import task_pb2, task_pb2_grpc
from labelops_common.grpcutil import grpc_channel
from labelops_common.settings import CommonSettings


class TasksRefused(Exception):
    """task-svc refused the tasks (a bad task in an object): retrying cannot help."""


class TasksUnavailable(ConnectionError):
    """task-svc could not be reached or gave up: the sync is retried."""


@dataclass(frozen=True)
class NewTask:
    """One task to create: Label Studio's `data` (and annotations, predictions, meta), and
    the object it came from (`source_key`, also what task-svc answers as `storage_filename`)."""

    data: dict[str, Any]
    source_key: str
    annotations: list[Any] | None = None
    predictions: list[Any] | None = None
    meta: dict[str, Any] | None = None

    def message(self, project_id: int) -> task_pb2.Task:
        def encoded(value: Any) -> bytes:
            return b"" if value is None else json.dumps(value).encode()

        return task_pb2.Task(
            project_id=project_id,
            data_json=json.dumps(self.data).encode(),
            meta_json=encoded(self.meta),
            annotations_json=encoded(self.annotations),
            predictions_json=encoded(self.predictions),
            source_key=self.source_key,
        )


class TaskClient:
    def __init__(self, common: CommonSettings, *, batch_size: int, deadline_seconds: float) -> None:
        self._common = common
        self._batch_size = batch_size
        self._deadline = deadline_seconds

    def _stub(self) -> task_pb2_grpc.TaskServiceStub:
        # No retry policy: a stream is retried as a whole, by the job.
        channel = grpc_channel(self._common.peer_address("task-svc"), retries=False)
        return task_pb2_grpc.TaskServiceStub(channel)

    def create(self, project_id: int, tasks: Sequence[NewTask], *, idempotency_key: str) -> int:
        """Create `tasks` in one all-or-nothing stream; returns how many were new.

        Tasks whose source key the project already holds are skipped by task-svc, and a
        stream with the same idempotency key as one applied before creates nothing again.
        """

        def batches() -> Iterator[task_pb2.TaskBatch]:
            for start in range(0, len(tasks), self._batch_size):
                yield task_pb2.TaskBatch(
                    project_id=project_id,
                    idempotency_key=idempotency_key,
                    tasks=[
                        task.message(project_id) for task in tasks[start : start + self._batch_size]
                    ],
                )

        try:
            summary = self._stub().BulkCreateTasks(batches(), timeout=self._deadline)
        except grpc.RpcError as error:
            code = error.code()
            if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND):
                raise TasksRefused(str(error.details())) from None
            raise TasksUnavailable(f"task-svc: {code.name} ({error.details()})") from None
        return int(summary.task_count)

    def read(self, project_id: int, task_ids: Sequence[int]) -> list[task_pb2.Task]:
        """These tasks of the project with their annotations (missing ones left out)."""
        return [task for batch in self.stream(project_id, task_ids=task_ids) for task in batch]

    def stream(
        self, project_id: int, *, task_ids: Sequence[int] = (), only_annotated: bool = False
    ) -> Iterator[list[task_pb2.Task]]:
        request = task_pb2.StreamTasksRequest(
            project_id=project_id,
            task_ids=list(task_ids),
            only_annotated=only_annotated,
            batch_size=500,
            include_annotations=True,
            include_predictions=True,
        )
        call = self._stub().StreamTasks(request, timeout=self._deadline)
        try:
            for batch in call:
                yield list(batch.tasks)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise TasksRefused(f"project {project_id} not found") from None
            raise TasksUnavailable(f"task-svc: {error.code().name} ({error.details()})") from None


def task_record(task: task_pb2.Task) -> dict[str, Any]:
    """A task as Label Studio writes it to an export storage: the task with its
    annotations and predictions (`FUTURE_SAVE_TASK_TO_STORAGE`'s shape)."""

    def loads(raw: bytes, default: Any) -> Any:
        return json.loads(raw) if raw else default

    annotations = loads(task.annotations_json, [])
    return {
        "id": task.id,
        "data": loads(task.data_json, {}),
        "meta": loads(task.meta_json, {}),
        "annotations": annotations,
        "predictions": loads(task.predictions_json, []),
        "project": task.project_id,
        "inner_id": task.inner_id,
        "storage_filename": task.source_key or None,
        "total_annotations": sum(1 for a in annotations if not a.get("was_cancelled")),
        "cancelled_annotations": sum(1 for a in annotations if a.get("was_cancelled")),
    }

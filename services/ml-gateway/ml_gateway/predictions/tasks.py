"""Tasks from task-svc, in the shape the protocol sends them, and predictions back to it.

ml-gateway never reads task-svc's tables: it reads tasks through `StreamTasks` and stores
predictions through `UpsertPredictions` (which checks them against the config again and
keeps task-svc's counters exact).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import grpc
from labelops.task.v1 import task_pb2, task_pb2_grpc
from labelops_common.grpcutil import grpc_channel, peer_error, peer_stub
from labelops_common.settings import CommonSettings

from ml_gateway.predictions.media import MediaResolver
from ml_gateway.predictions.results import ModelPrediction

#: Task ids per `StreamTasks` call when a job lists a whole project.
ID_PAGE = 1000


class TasksUnavailable(Exception):
    """task-svc refused or could not answer (the job may retry)."""


def _loads(raw: bytes, default: Any) -> Any:
    return json.loads(raw) if raw else default


def protocol_task(message: task_pb2.Task) -> dict[str, Any]:
    """A task as Label Studio's TaskSimpleSerializer sends it to `/predict`."""
    return {
        "id": message.id,
        "data": _loads(message.data_json, {}),
        "meta": _loads(message.meta_json, {}),
        "project": message.project_id,
        "inner_id": message.inner_id,
        "annotations": _loads(message.annotations_json, []),
        "predictions": _loads(message.predictions_json, []),
    }


def _cancel(call: Any) -> None:
    """Stop a server stream read early (tracing may wrap the call in a plain generator)."""
    cancel = getattr(call, "cancel", None)
    if cancel is not None:
        cancel()
    else:
        close = getattr(call, "close", None)
        if close is not None:
            close()


class TaskStore:
    """task-svc over gRPC, for one process."""

    def __init__(
        self,
        common: CommonSettings,
        *,
        deadline_seconds: float = 60.0,
        media: MediaResolver | None = None,
    ) -> None:
        self._common = common
        self._deadline = deadline_seconds
        #: Resolves storage URIs in the tasks' data (storage-sync), when given.
        self._media = media

    def _target(self) -> str:
        return self._common.peer_address("task-svc")

    def project_task_ids(self, project_id: int) -> Iterator[int]:
        """Every task id of the project, in order (the tasks' data is read later, by batch)."""
        stub = task_pb2_grpc.TaskServiceStub(grpc_channel(self._target(), retries=False))
        request = task_pb2.StreamTasksRequest(project_id=project_id, batch_size=ID_PAGE)
        call = stub.StreamTasks(request, timeout=self._deadline * 10)
        try:
            for batch in call:
                for task in batch.tasks:
                    yield task.id
        except grpc.RpcError as exc:
            raise TasksUnavailable(f"task-svc: {exc.code().name}: {exc.details()}") from None
        finally:
            _cancel(call)

    def annotated_tasks(self, project_id: int) -> list[dict[str, Any]]:
        """The project's annotated tasks with their annotations (the legacy `/train` body)."""
        stub = task_pb2_grpc.TaskServiceStub(grpc_channel(self._target(), retries=False))
        request = task_pb2.StreamTasksRequest(
            project_id=project_id, only_annotated=True, include_annotations=True
        )
        found: list[dict[str, Any]] = []
        try:
            for batch in stub.StreamTasks(request, timeout=self._deadline * 10):
                found.extend(protocol_task(task) for task in batch.tasks)
        except grpc.RpcError as exc:
            raise TasksUnavailable(f"task-svc: {exc.code().name}: {exc.details()}") from None
        return found

    def some_task_ids(
        self, project_id: int, *, limit: int, timeout: float | None = None
    ) -> list[int]:
        """Up to `limit` task ids of the project (its first ones)."""
        stub = task_pb2_grpc.TaskServiceStub(grpc_channel(self._target(), retries=False))
        request = task_pb2.StreamTasksRequest(project_id=project_id, batch_size=limit)
        call = stub.StreamTasks(request, timeout=timeout or self._deadline)
        try:
            for batch in call:
                return [task.id for task in batch.tasks]
        except grpc.RpcError as exc:
            raise TasksUnavailable(f"task-svc: {exc.code().name}: {exc.details()}") from None
        finally:
            _cancel(call)
        return []

    def tasks(
        self, project_id: int, task_ids: Sequence[int], *, timeout: float | None = None
    ) -> list[dict[str, Any]]:
        """These tasks (those that still exist) with annotations and predictions."""
        if not task_ids:
            return []
        stub = task_pb2_grpc.TaskServiceStub(grpc_channel(self._target(), retries=False))
        request = task_pb2.StreamTasksRequest(
            project_id=project_id,
            task_ids=list(task_ids),
            batch_size=min(max(len(task_ids), 1), ID_PAGE),
            include_annotations=True,
            include_predictions=True,
        )
        found: list[dict[str, Any]] = []
        try:
            for batch in stub.StreamTasks(request, timeout=timeout or self._deadline):
                found.extend(protocol_task(task) for task in batch.tasks)
        except grpc.RpcError as exc:
            raise TasksUnavailable(f"task-svc: {exc.code().name}: {exc.details()}") from None
        if self._media is not None:
            found = self._media.resolve(project_id, found)
        return found

    def store(self, project_id: int, predictions: Sequence[tuple[int, ModelPrediction]]) -> int:
        """Upsert the predictions (one per task and model version); returns how many."""
        if not predictions:
            return 0
        stub = peer_stub(
            task_pb2_grpc.TaskServiceStub,
            target=self._target(),
            deadline_seconds=self._deadline,
        )
        request = task_pb2.UpsertPredictionsRequest(
            project_id=project_id,
            predictions=[
                task_pb2.Prediction(
                    task_id=task_id,
                    result_json=json.dumps(prediction.result, ensure_ascii=False).encode(),
                    score=prediction.score or 0.0,
                    has_score=prediction.score is not None,
                    model_version=prediction.model_version,
                )
                for task_id, prediction in predictions
            ],
        )
        try:
            answer = stub.UpsertPredictions(request)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise TasksUnavailable(
                    f"task-svc refused the predictions: {exc.details()}"
                ) from None
            raise peer_error("task-svc", exc) from None
        return int(answer.created + answer.updated)

"""task-svc's gRPC face: counters for project-svc, tasks in bulk for the other services.

Protobuf stops here: the servicer turns each request into the plain values the domains'
services take (`bulk.TaskBatch`, keyword arguments) and their results into messages.

Callers are services (storage sync, imports, exports, ml-gateway), trusted inside the
cluster; a project must still exist in project-svc. Failures map to status codes:
a bad item or argument is INVALID_ARGUMENT (naming the item and the reason) and writes
nothing, an unknown project or view is NOT_FOUND, a concurrent duplicate of an
idempotent batch is ABORTED, project-svc being down is UNAVAILABLE.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn

import grpc
from labelops.task.v1 import task_pb2, task_pb2_grpc
from labelops_common.db import Database
from labelops_common.directory import ProjectDirectory, ProjectInfo
from labelops_common.grpcutil import PeerError
from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from task_svc.agreement import service as agreement
from task_svc.annotations import service as annotation_service
from task_svc.bulk import service as bulk
from task_svc.counts import service as counts
from task_svc.tasks.service import delete_tasks

logger = logging.getLogger(__name__)

_STATUS = {
    bulk.BulkError.INVALID: grpc.StatusCode.INVALID_ARGUMENT,
    bulk.BulkError.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    bulk.BulkError.CONFLICT: grpc.StatusCode.ABORTED,
}


def abort(context: grpc.ServicerContext, code: grpc.StatusCode, details: str) -> NoReturn:
    """`context.abort`, typed as never returning."""
    context.abort(code, details)
    raise AssertionError("context.abort returned")


def _task_message(task: Row[Any]) -> task_pb2.Task:
    """A streamed task: its JSON documents (and its annotations and predictions, when asked
    for) passed on as PostgreSQL wrote them."""
    message = task_pb2.Task(
        id=task.id,
        project_id=task.project_id,
        data_json=task.data_json.encode(),
        meta_json=(task.meta_json or "{}").encode(),
        inner_id=task.inner_id,
        source_key=task.source_key or "",
    )
    fields = task._fields
    if "annotations_json" in fields:
        message.annotations_json = task.annotations_json.encode()
    if "predictions_json" in fields:
        message.predictions_json = task.predictions_json.encode()
    return message


def _task_batches(messages: Iterable[task_pb2.TaskBatch]) -> Iterator[bulk.TaskBatch]:
    """The stream's batches as plain values, one at a time (memory stays one batch)."""
    for message in messages:
        yield bulk.TaskBatch(
            project_id=message.project_id,
            idempotency_key=message.idempotency_key,
            tasks=[
                bulk.TaskItem(
                    data_json=task.data_json,
                    project_id=task.project_id,
                    meta_json=task.meta_json,
                    annotations_json=task.annotations_json,
                    predictions_json=task.predictions_json,
                    source_key=task.source_key,
                )
                for task in message.tasks
            ],
        )


class TaskServicer(task_pb2_grpc.TaskServiceServicer):
    def __init__(self, database: Database, projects: ProjectDirectory) -> None:
        self.database = database
        self.projects = projects

    def _project(self, project_id: int, context: grpc.ServicerContext) -> ProjectInfo:
        if project_id <= 0:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "project_id is required")
        try:
            project = self.projects.get(project_id)
        except PeerError as error:
            logger.warning("project-svc unavailable", extra={"error": str(error)})
            abort(context, grpc.StatusCode.UNAVAILABLE, "project-svc is unavailable")
        if project is None:
            abort(context, grpc.StatusCode.NOT_FOUND, f"project {project_id} not found")
        return project

    @staticmethod
    def _refuse(context: grpc.ServicerContext, error: bulk.BulkError) -> NoReturn:
        abort(context, _STATUS[error.kind], error.message)

    def BulkCreateTasks(
        self, request_iterator: Iterator[task_pb2.TaskBatch], context: grpc.ServicerContext
    ) -> task_pb2.BulkCreateSummary:
        """One transaction for the whole stream: every batch is written, or none."""
        batches = iter(request_iterator)
        first = next(batches, None)
        if first is None:
            return task_pb2.BulkCreateSummary()
        project = self._project(first.project_id, context)
        with self.database.session() as session:
            try:
                summary = bulk.create_tasks_from_batches(
                    session,
                    project=project,
                    batches=_task_batches(itertools.chain([first], batches)),
                )
                session.commit()
            except bulk.BulkError as error:
                session.rollback()
                self._refuse(context, error)
            except IntegrityError:
                session.rollback()
                abort(
                    context,
                    grpc.StatusCode.ABORTED,
                    "a concurrent stream applied the same batches; retry",
                )
        return task_pb2.BulkCreateSummary(
            task_count=summary.task_count,
            annotation_count=summary.annotation_count,
            prediction_count=summary.prediction_count,
            task_ids=summary.task_ids or [],
        )

    def StreamTasks(
        self, request: task_pb2.StreamTasksRequest, context: grpc.ServicerContext
    ) -> Iterator[task_pb2.TaskBatch]:
        project = self._project(request.project_id, context)
        query = bulk.StreamQuery(
            project_id=project.id,
            only_annotated=request.only_annotated,
            task_ids=tuple(request.task_ids),
            view_id=request.view_id,
            batch_size=request.batch_size,
            include_annotations=request.include_annotations,
            include_predictions=request.include_predictions,
        )
        with self.database.session() as session:
            try:
                for page in bulk.stream_task_pages(session, query):
                    if not context.is_active():
                        return
                    yield task_pb2.TaskBatch(
                        project_id=project.id,
                        tasks=[_task_message(task) for task in page.tasks],
                    )
            except bulk.BulkError as error:
                self._refuse(context, error)

    def UpsertPredictions(
        self, request: task_pb2.UpsertPredictionsRequest, context: grpc.ServicerContext
    ) -> task_pb2.UpsertPredictionsResponse:
        """All or nothing; a task of another project is INVALID_ARGUMENT (nothing written)."""
        project = self._project(request.project_id, context)
        with self.database.session() as session:
            try:
                inputs = [
                    bulk.decode_prediction(
                        index,
                        project=project,
                        task_id=message.task_id,
                        result_json=message.result_json,
                        score=message.score if message.has_score else None,
                        model_version=message.model_version,
                    )
                    for index, message in enumerate(request.predictions)
                ]
                created, updated = bulk.upsert_predictions(
                    session, project=project, predictions=inputs
                )
                session.commit()
            except bulk.BulkError as error:
                session.rollback()
                self._refuse(context, error)
        return task_pb2.UpsertPredictionsResponse(created=created, updated=updated)

    def GetProjectCounts(
        self, request: task_pb2.GetProjectCountsRequest, context: grpc.ServicerContext
    ) -> task_pb2.GetProjectCountsResponse:
        with self.database.session() as session:
            found = counts.get_project_counts(session, project_ids=list(request.project_ids))
        return task_pb2.GetProjectCountsResponse(
            counts=[
                task_pb2.ProjectCounts(project_id=project_id, **values)
                for project_id, values in found.items()
            ]
        )

    def DeleteProjectTasks(
        self, request: task_pb2.DeleteProjectTasksRequest, context: grpc.ServicerContext
    ) -> task_pb2.DeleteProjectTasksResponse:
        with self.database.session() as session:
            deleted = delete_tasks(session, project_id=request.project_id, task_ids=None)
            counts.forget_project(session, project_id=request.project_id)
            session.commit()
        # Asked only for a project being deleted: from now on it is not found here.
        self.projects.forget(request.project_id)
        return task_pb2.DeleteProjectTasksResponse(deleted=deleted)

    def GetLabelsInUse(
        self, request: task_pb2.GetLabelsInUseRequest, context: grpc.ServicerContext
    ) -> task_pb2.GetLabelsInUseResponse:
        with self.database.session() as session:
            controls = annotation_service.controls_in_use(session, project_id=request.project_id)
            labels = annotation_service.labels_in_use(session, project_id=request.project_id)
        return task_pb2.GetLabelsInUseResponse(
            controls=[
                task_pb2.ControlInUse(
                    from_name=from_name, to_name=to_name, type=type_, annotation_count=count
                )
                for from_name, to_name, type_, count in controls
            ],
            labels=[
                task_pb2.LabelInUse(
                    from_name=from_name,
                    label=label,
                    annotation_count=in_annotations,
                    draft_count=in_drafts,
                )
                for (from_name, label), (in_annotations, in_drafts) in sorted(labels.items())
            ],
        )

    def CountLabelUses(
        self, request: task_pb2.CountLabelUsesRequest, context: grpc.ServicerContext
    ) -> task_pb2.CountLabelUsesResponse:
        with self.database.session() as session:
            found = annotation_service.count_label_uses(
                session, uses=[(use.project_id, use.value_json) for use in request.uses]
            )
        return task_pb2.CountLabelUsesResponse(annotation_counts=found)

    def SetProjectOverlap(
        self, request: task_pb2.SetProjectOverlapRequest, context: grpc.ServicerContext
    ) -> task_pb2.SetProjectOverlapResponse:
        with self.database.session() as session:
            finished = counts.apply_overlap(
                session,
                project_id=request.project_id,
                overlap=request.maximum_annotations,
                skip_queue=request.skip_queue,
                cohort_percentage=request.overlap_cohort_percentage or 100,
            )
            agreement.apply_threshold(
                session,
                project_id=request.project_id,
                threshold=(
                    request.agreement_threshold if request.HasField("agreement_threshold") else None
                ),
            )
            session.commit()
        # Writers from now on read the new rules.
        self.projects.forget(request.project_id)
        return task_pb2.SetProjectOverlapResponse(finished_task_number=finished)


def register_task_service(
    database: Database, projects: ProjectDirectory
) -> Callable[[grpc.Server], None]:
    def register(server: grpc.Server) -> None:
        task_pb2_grpc.add_TaskServiceServicer_to_server(TaskServicer(database, projects), server)

    return register

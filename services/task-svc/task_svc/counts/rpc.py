"""task-svc's gRPC face. Counters are served now; bulk task RPCs arrive with task-svc's issue
and answer UNIMPLEMENTED until then (the generated base class does that)."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from labelops.task.v1 import task_pb2, task_pb2_grpc
from labelops_common.db import Database

from task_svc.counts import service as counts
from task_svc.tasks import counters
from task_svc.tasks.service import delete_tasks


class TaskServicer(task_pb2_grpc.TaskServiceServicer):
    def __init__(self, database: Database) -> None:
        self.database = database

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
        return task_pb2.DeleteProjectTasksResponse(deleted=deleted)

    def SetProjectOverlap(
        self, request: task_pb2.SetProjectOverlapRequest, context: grpc.ServicerContext
    ) -> task_pb2.SetProjectOverlapResponse:
        with self.database.session() as session:
            finished = counters.apply_overlap(
                session,
                project_id=request.project_id,
                overlap=request.maximum_annotations,
                skip_queue=request.skip_queue,
            )
            session.commit()
        return task_pb2.SetProjectOverlapResponse(finished_task_number=finished)


def register_task_service(database: Database) -> Callable[[grpc.Server], None]:
    def register(server: grpc.Server) -> None:
        task_pb2_grpc.add_TaskServiceServicer_to_server(TaskServicer(database), server)

    return register

"""`MLGateway` over gRPC: predictions for task-svc.

`Predict` answers synchronously within the short interactive timeout and stores nothing
(task-svc stores what it asked for: a pre-label on the label stream). `StartPredictions`
queues a job that predicts and stores in batches. A project without a backend is
FAILED_PRECONDITION; a failing backend is not an RPC error: each task carries the reason.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import NoReturn

import grpc
from labelops.ml.v1 import ml_pb2, ml_pb2_grpc
from labelops_common.db import Database
from labelops_common.directory import ProjectDirectory, ProjectInfo
from labelops_common.grpcutil import PeerError

from ml_gateway.backends import service as backends
from ml_gateway.backends.protocol import BackendCallFailed, ProtocolClient
from ml_gateway.predictions import jobs, service
from ml_gateway.predictions.models import PredictionJob
from ml_gateway.predictions.tasks import TaskStore, TasksUnavailable

logger = logging.getLogger(__name__)

#: Most tasks one synchronous `Predict` may ask for (a job takes more).
MAX_SYNC_TASKS = 100


def abort(context: grpc.ServicerContext, code: grpc.StatusCode, details: str) -> NoReturn:
    context.abort(code, details)
    raise AssertionError("context.abort returned")


def job_message(job: PredictionJob) -> ml_pb2.PredictionJob:
    return ml_pb2.PredictionJob(
        job_id=job.id,
        project_id=job.project_id,
        ml_backend_id=job.ml_backend_id,
        status=job.status,
        total=job.total or 0,
        predicted=job.predicted,
        skipped=job.skipped,
        failed=job.failed,
        error=job.last_error or job.error or "",
        model_version=job.model_version,
    )


class MLGatewayServicer(ml_pb2_grpc.MLGatewayServicer):
    def __init__(
        self,
        database: Database,
        projects: ProjectDirectory,
        client: ProtocolClient,
        tasks: TaskStore,
    ) -> None:
        self.database = database
        self.projects = projects
        self.client = client
        self.tasks = tasks

    def _project(self, project_id: int, context: grpc.ServicerContext) -> ProjectInfo:
        if project_id <= 0:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "project_id is required")
        try:
            project = self.projects.get(project_id)
        except PeerError:
            abort(context, grpc.StatusCode.UNAVAILABLE, "project-svc is unavailable")
        if project is None:
            abort(context, grpc.StatusCode.NOT_FOUND, f"project {project_id} not found")
        return project

    def Predict(
        self, request: ml_pb2.PredictRequest, context: grpc.ServicerContext
    ) -> ml_pb2.PredictResponse:
        project = self._project(request.project_id, context)
        if len(request.task_ids) > MAX_SYNC_TASKS:
            abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"at most {MAX_SYNC_TASKS} tasks per Predict; StartPredictions takes more",
            )
        with self.database.session() as session:
            backend = backends.first_backend(
                session, project_id=project.id, backend_id=request.ml_backend_id
            )
            if backend is None:
                abort(context, grpc.StatusCode.FAILED_PRECONDITION, "no ML backend connected")
            endpoint = backends.endpoint_of(backend)
            version = request.model_version or backend.model_version
        timeout = self.client.settings.interactive_timeout_seconds
        try:
            found = self.tasks.tasks(project.id, list(request.task_ids), timeout=timeout)
            if not found:
                return ml_pb2.PredictResponse()
            outcomes = service.predict_tasks(
                self.client, endpoint, project, found, default_version=version, interactive=True
            )
        except (BackendCallFailed, TasksUnavailable) as error:
            reason = error.reason if isinstance(error, BackendCallFailed) else str(error)
            return ml_pb2.PredictResponse(
                predictions=[
                    ml_pb2.TaskPrediction(task_id=int(task_id), error=reason)
                    for task_id in request.task_ids
                ]
            )
        answer = ml_pb2.PredictResponse()
        for outcome in outcomes:
            if not outcome.ok:
                answer.predictions.append(
                    ml_pb2.TaskPrediction(task_id=outcome.task_id, error=outcome.error or "")
                )
                continue
            for prediction in outcome.predictions:
                answer.predictions.append(
                    ml_pb2.TaskPrediction(
                        task_id=outcome.task_id,
                        result_json=json.dumps(prediction.result, ensure_ascii=False).encode(),
                        score=prediction.score or 0.0,
                        has_score=prediction.score is not None,
                        model_version=prediction.model_version,
                    )
                )
        return answer

    def StartPredictions(
        self, request: ml_pb2.StartPredictionsRequest, context: grpc.ServicerContext
    ) -> ml_pb2.PredictionJob:
        project = self._project(request.project_id, context)
        if not request.all_tasks and not request.task_ids:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "task_ids or all_tasks is required")
        with self.database.session() as session:
            backend = backends.first_backend(
                session, project_id=project.id, backend_id=request.ml_backend_id
            )
            if backend is None:
                abort(context, grpc.StatusCode.FAILED_PRECONDITION, "no ML backend connected")
            job = service.create_prediction_job(
                session,
                project_id=project.id,
                backend=backend,
                task_ids=None if request.all_tasks else list(request.task_ids),
                requested_by_id=request.requested_by_id or None,
            )
            jobs.predict_tasks.enqueue_after_commit(session, job.id)
            session.commit()
            return job_message(job)

    def GetPredictionJob(
        self, request: ml_pb2.GetPredictionJobRequest, context: grpc.ServicerContext
    ) -> ml_pb2.PredictionJob:
        with self.database.session() as session:
            job = service.get_prediction_job(
                session, job_id=request.job_id, project_id=request.project_id
            )
            if job is None:
                abort(
                    context, grpc.StatusCode.NOT_FOUND, f"prediction job {request.job_id} not found"
                )
            return job_message(job)


def register_ml_gateway(
    database: Database, projects: ProjectDirectory, client: ProtocolClient, tasks: TaskStore
) -> Callable[[grpc.Server], None]:
    def register(server: grpc.Server) -> None:
        ml_pb2_grpc.add_MLGatewayServicer_to_server(
            MLGatewayServicer(database, projects, client, tasks), server
        )

    return register

"""Pre-labels on the label stream: the task handed out gets a model's prediction first.

When the project uses predictions to pre-label (`show_collab_predictions`) and the task
has no prediction of the project's model version (any prediction, if it names none),
task-svc asks ml-gateway's `Predict` for it within `prelabel_timeout_seconds` and stores
what comes back (checked against the config, counted). A slow, failing or missing backend
costs the annotator at most that timeout, and usually nothing: a project found to have no
backend, or an ml-gateway that did not answer, is not asked again for a while.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import grpc
from labelops.ml.v1 import ml_pb2, ml_pb2_grpc
from labelops_common.directory import ProjectInfo
from labelops_common.grpcutil import grpc_channel
from labelops_common.settings import CommonSettings
from sqlalchemy.orm import Session

from task_svc.bulk import service as bulk
from task_svc.predictions.models import Prediction

logger = logging.getLogger(__name__)

#: How long a project without a backend (or an unreachable ml-gateway) is not asked again.
QUIET_SECONDS = 30.0

_quiet_until: dict[int, float] = {}
_lock = threading.Lock()


def _quiet(project_id: int) -> bool:
    with _lock:
        return _quiet_until.get(project_id, 0.0) > time.monotonic()


def _hush(project_id: int) -> None:
    with _lock:
        if len(_quiet_until) > 10_000:
            _quiet_until.clear()
        _quiet_until[project_id] = time.monotonic() + QUIET_SECONDS


def wants_prelabel(project: ProjectInfo, predictions: Sequence[Prediction]) -> bool:
    if not project.show_collab_predictions:
        return False
    if project.model_version:
        return not any(p.model_version == project.model_version for p in predictions)
    return not predictions


def prelabel(
    session: Session,
    *,
    common: CommonSettings,
    project: ProjectInfo,
    task_id: int,
    timeout_seconds: float,
) -> bool:
    """Ask ml-gateway for the task's prediction and store it; True if one was stored."""
    if _quiet(project.id):
        return False
    # No retries: a second try would only add to the annotator's wait.
    stub = ml_pb2_grpc.MLGatewayStub(grpc_channel(common.peer_address("ml-gateway"), retries=False))
    try:
        answer = stub.Predict(
            ml_pb2.PredictRequest(
                project_id=project.id, task_ids=[task_id], model_version=project.model_version
            ),
            timeout=timeout_seconds,
        )
    except grpc.RpcError as exc:
        code = exc.code()
        if code in (
            grpc.StatusCode.FAILED_PRECONDITION,
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.UNIMPLEMENTED,
        ):
            _hush(project.id)
        if code != grpc.StatusCode.FAILED_PRECONDITION:
            logger.info("no pre-label", extra={"project_id": project.id, "grpc_code": code.name})
        return False
    inputs = []
    for index, item in enumerate(answer.predictions):
        if item.error or item.task_id != task_id:
            continue
        try:
            inputs.append(
                bulk.decode_prediction(
                    index,
                    project=project,
                    task_id=item.task_id,
                    result_json=item.result_json,
                    score=item.score if item.has_score else None,
                    model_version=item.model_version,
                )
            )
        except bulk.BulkError as error:
            logger.info("pre-label refused", extra={"task_id": task_id, "reason": error.message})
    if not inputs:
        return False
    try:
        bulk.upsert_predictions(session, project=project, predictions=inputs)
        session.commit()
    except bulk.BulkError:
        session.rollback()  # the task went away meanwhile
        return False
    return True

"""Predictions: checked against the config like annotations, counted on write. Callers commit."""

from __future__ import annotations

from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from sqlalchemy.orm import Session

from task_svc.annotations.service import check_result
from task_svc.counts import service as counts
from task_svc.predictions.models import Prediction
from task_svc.predictions.schemas import PredictionCreate, PredictionUpdate
from task_svc.tasks.models import Task


def create_prediction(
    session: Session, *, task: Task, project: ProjectInfo, body: PredictionCreate
) -> Prediction:
    check_result(project, body.result)
    now = utcnow()
    prediction = Prediction(
        task_id=task.id,
        project_id=task.project_id,
        result=body.result,
        score=body.score,
        model_version=body.model_version,
        created_at=now,
        updated_at=now,
    )
    session.add(prediction)
    counts.refresh_prediction_counters(session, task)
    return prediction


def update_prediction(
    session: Session,
    *,
    prediction: Prediction,
    task: Task,
    project: ProjectInfo,
    body: PredictionUpdate,
) -> Prediction:
    if body.result is not None:
        check_result(project, body.result)
        prediction.result = body.result
    if "score" in body.model_fields_set:
        prediction.score = body.score
    if body.model_version is not None:
        prediction.model_version = body.model_version
    prediction.updated_at = utcnow()
    counts.refresh_prediction_counters(session, task)
    return prediction


def delete_prediction(session: Session, *, prediction: Prediction, task: Task) -> None:
    session.delete(prediction)
    counts.refresh_prediction_counters(session, task)

"""`/api/predictions`: a model's pre-labels, counted on the task on every write (thin)."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.http.answers import documented, json_answer
from labelops_common.http.errors import NotFound, ValidationFailed
from labelops_common.http.routing import ApiRouter
from sqlalchemy import select

from task_svc import access
from task_svc.dependencies import DbSession, Projects
from task_svc.predictions import service as predictions
from task_svc.predictions.models import Prediction
from task_svc.predictions.schemas import (
    PredictionAnswer,
    PredictionCreate,
    PredictionReplace,
    PredictionUpdate,
    prediction_fields,
)

router = ApiRouter(tags=["predictions"])


@router.get("/api/predictions", response_model=None, responses=documented(list[PredictionAnswer]))
def list_predictions(
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    task: int | None = None,
    project: int | None = None,
    task__project: int | None = None,
) -> Response:
    """Up to 10,000 predictions: built here and not validated (`documented`)."""
    project_id = project or task__project
    query = select(Prediction).order_by(Prediction.id)
    if task is not None:
        found_task, _ = access.task_for(session, projects, principal, task, access.can_view_tasks)
        query = query.where(Prediction.task_id == found_task.id)
    elif project_id is not None:
        access.project_for(projects, principal, project_id, access.can_view_tasks)
        query = query.where(Prediction.project_id == project_id)
    else:
        raise ValidationFailed({"task": ["Give task or project."]})
    if project_id is not None:
        query = query.where(Prediction.project_id == project_id)
    return json_answer([prediction_fields(p) for p in session.scalars(query.limit(10_000))])


@router.post("/api/predictions", status_code=201, response_model=PredictionAnswer)
def create_prediction(
    body: PredictionCreate, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    task, project = access.task_for(
        session, projects, principal, body.task, access.can_manage_tasks, lock=True
    )
    prediction = predictions.create_prediction(session, task=task, project=project, body=body)
    session.commit()
    return prediction_fields(prediction)


def _owned(
    session: DbSession, projects: Projects, principal: CurrentUser, prediction_id: int, policy: Any
) -> Prediction:
    prediction = session.get(Prediction, prediction_id)
    if prediction is None:
        raise NotFound()
    access.project_for(projects, principal, prediction.project_id, policy)
    return prediction


@router.get("/api/predictions/{prediction_id:int}", response_model=PredictionAnswer)
def get_prediction(
    prediction_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    return prediction_fields(
        _owned(session, projects, principal, prediction_id, access.can_view_tasks)
    )


@router.patch("/api/predictions/{prediction_id:int}", response_model=PredictionAnswer)
def update_prediction(
    prediction_id: int,
    body: PredictionUpdate,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> dict[str, Any]:
    prediction = _owned(session, projects, principal, prediction_id, access.can_manage_tasks)
    task = access.lock_task(session, prediction.task_id)
    if task is None:
        raise NotFound()
    project = access.project_for(
        projects, principal, prediction.project_id, access.can_manage_tasks
    )
    predictions.update_prediction(
        session, prediction=prediction, task=task, project=project, body=body
    )
    session.commit()
    return prediction_fields(prediction)


@router.put("/api/predictions/{prediction_id:int}", response_model=PredictionAnswer)
def replace_prediction(
    prediction_id: int,
    body: PredictionReplace,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> dict[str, Any]:
    prediction = _owned(session, projects, principal, prediction_id, access.can_manage_tasks)
    if body.task is not None and body.task != prediction.task_id:
        raise ValidationFailed({"task": ["A prediction cannot move to another task."]})
    return update_prediction(prediction_id, body.as_update(), session, projects, principal)


@router.delete("/api/predictions/{prediction_id:int}", status_code=204)
def delete_prediction(
    prediction_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> Response:
    prediction = _owned(session, projects, principal, prediction_id, access.can_manage_tasks)
    task = access.lock_task(session, prediction.task_id)
    if task is None:
        raise NotFound()
    predictions.delete_prediction(session, prediction=prediction, task=task)
    session.commit()
    return Response(status_code=204)

"""`/api/tasks` and `/api/projects/{id}/tasks`: Label Studio's task endpoints (thin)."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.principal import Principal
from labelops_common.directory import ProjectInfo
from labelops_common.http.answers import documented, json_answer
from labelops_common.http.errors import NotFound, ValidationFailed
from labelops_common.http.params import parse_bool
from labelops_common.http.routing import ApiRouter
from sqlalchemy import select

from task_svc import access
from task_svc.annotations.schemas import annotation_fields
from task_svc.audit import service as audit
from task_svc.dependencies import DbSession, Media, Projects, Users
from task_svc.predictions.schemas import prediction_fields
from task_svc.tasks import service as tasks
from task_svc.tasks.models import Task
from task_svc.tasks.schemas import (
    FullTaskAnswer,
    TaskCreate,
    TaskUpdate,
    TaskWithResultsAnswer,
    full_task,
    task_fields,
)

router = ApiRouter(tags=["tasks"])

PROJECT_TASKS_PAGE_SIZE = 50
PROJECT_TASKS_PAGE_SIZE_MAX = 10_000


def _full(
    session: DbSession, task: Task, project: ProjectInfo, principal: Principal, users: Users
) -> dict[str, Any]:
    annotations, predictions, drafts = tasks.related(
        session,
        [task.id],
        user_id=principal.user_id,
        annotations_by=access.annotations_visible_to(principal, project),
    )
    return full_task(
        task,
        annotations=annotations[task.id],
        predictions=predictions[task.id],
        drafts=drafts[task.id],
        users=users.describe(
            principal.organization_id, (a.completed_by_id for a in annotations[task.id])
        ),
    )


@router.post(
    "/api/tasks",
    status_code=201,
    response_model=FullTaskAnswer,
    response_model_exclude_unset=True,
)
def create_task(
    body: TaskCreate, session: DbSession, projects: Projects, principal: CurrentUser, users: Users
) -> dict[str, Any]:
    project = access.project_for(projects, principal, body.project, access.can_manage_tasks)
    task = tasks.create_task(
        session, project=project, data=body.data, meta=body.meta, user_id=principal.user_id
    )
    audit.task_created(session, principal, task)
    session.commit()
    return _full(session, task, project, principal, users)


@router.get(
    "/api/tasks/{task_id:int}", response_model=FullTaskAnswer, response_model_exclude_unset=True
)
def get_task(
    task_id: int,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    users: Users,
    media: Media,
    resolve_uri: str | None = None,
) -> dict[str, Any]:
    """`?resolve_uri=false` keeps storage references as stored (default: resolved)."""
    task, project = access.task_for(session, projects, principal, task_id, access.can_view_tasks)
    answer = _full(session, task, project, principal, users)
    if parse_bool(resolve_uri, field="resolve_uri", default=True):
        answer["data"] = media.resolve_data(
            project_id=task.project_id, task_id=task.id, data=answer["data"]
        )
    return answer


@router.patch("/api/tasks/{task_id:int}", response_model=TaskWithResultsAnswer)
def update_task(
    task_id: int,
    body: TaskUpdate,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> dict[str, Any]:
    task, project = access.task_for(session, projects, principal, task_id, access.can_manage_tasks)
    before = audit.task_state(task)
    tasks.update_task(
        session,
        task=task,
        project=project,
        data=body.data,
        meta=body.meta,
        user_id=principal.user_id,
    )
    audit.task_updated(session, principal, task, before=before)
    session.commit()
    annotations, predictions, _ = tasks.related(session, [task.id])
    return {
        **task_fields(task),
        "annotations": [annotation_fields(a) for a in annotations[task.id]],
        "predictions": [prediction_fields(p) for p in predictions[task.id]],
    }


@router.delete("/api/tasks/{task_id:int}", status_code=204)
def delete_task(
    task_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> Response:
    task, project = access.task_for(session, projects, principal, task_id, access.can_manage_tasks)
    tasks.delete_tasks(session, project_id=project.id, task_ids=[task.id])
    audit.task_deleted(session, principal, task_id=task_id, project_id=project.id)
    session.commit()
    return Response(status_code=204)


@router.get(
    "/api/projects/{project_id:int}/tasks",
    response_model=None,
    responses=documented(list[TaskWithResultsAnswer]),
)
def list_project_tasks(
    project_id: int,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    page: str | None = None,
    page_size: str | None = None,
) -> Response:
    """A plain list, newest change first; `page_size=-1` is everything (capped).

    Up to 10,000 tasks a page: built here and not validated (`documented`)."""
    project = access.project_for(projects, principal, project_id, access.can_view_tasks)
    visible = access.visible_tasks(principal, project)
    try:
        page_number = int(page) if page else 1
        size = int(page_size) if page_size else PROJECT_TASKS_PAGE_SIZE
    except ValueError:
        raise ValidationFailed({"page_size": ["A valid integer is required."]}) from None
    if page_number < 1:
        raise NotFound("Invalid page.")
    if size == -1 or size > PROJECT_TASKS_PAGE_SIZE_MAX:
        size = PROJECT_TASKS_PAGE_SIZE_MAX
    size = max(size, 1)
    found = list(
        session.scalars(
            select(Task)
            .where(Task.project_id == project_id, *([visible] if visible is not None else []))
            .order_by(Task.updated_at.desc(), Task.id.desc())
            .offset((page_number - 1) * size)
            .limit(size)
        )
    )
    if not found:
        raise NotFound("Invalid page.")
    annotations, predictions, _ = tasks.related(
        session,
        [t.id for t in found],
        annotations_by=access.annotations_visible_to(principal, project),
    )
    return json_answer(
        [
            {
                **task_fields(task),
                "annotations": [annotation_fields(a) for a in annotations[task.id]],
                "predictions": [prediction_fields(p) for p in predictions[task.id]],
            }
            for task in found
        ]
    )


@router.delete("/api/projects/{project_id:int}/tasks", status_code=204)
def delete_project_tasks(
    project_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> Response:
    access.project_for(projects, principal, project_id, access.can_manage_tasks)
    deleted = tasks.delete_tasks(session, project_id=project_id, task_ids=None)
    if deleted:
        audit.tasks_deleted(
            session, principal, project_id=project_id, deleted=deleted, selection={"all": True}
        )
    session.commit()
    return Response(status_code=204)

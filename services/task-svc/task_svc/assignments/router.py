"""Task assignments (Label Studio Enterprise's API, thin): bulk from the data manager's
selection, per task, and each person's queue in a project."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Body, Request, Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import (
    NotFound,
    ValidationFailed,
    validation_errors_from_pydantic,
)
from labelops_common.http.routing import ApiRouter
from labelops_common.settings import CommonSettings
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from task_svc import access
from task_svc.assignments import members
from task_svc.assignments import service as assignments
from task_svc.assignments.schemas import (
    KIND_BY_TYPE,
    TYPE_BY_KIND,
    AssigneesBody,
    BulkAssignAnswer,
    BulkAssigneesBody,
    QueueAnswer,
    TaskAssignmentAnswer,
    assignment_fields,
)
from task_svc.datamanager import service as dm
from task_svc.dependencies import DbSession, Projects
from task_svc.tasks.models import Task

router = ApiRouter(tags=["assignments"])

Model = TypeVar("Model", bound=BaseModel)
#: The body is read once access is settled: whoever may not assign here learns nothing of
#: what a valid body would be (404/403 before any 400).
RawBody = Annotated[Any, Body()]


def _documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """The route's OpenAPI request body, though the handler reads it itself (`RawBody`)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


def _parse(model: type[Model], raw: Any) -> Model:
    try:
        return model.model_validate(raw if raw is not None else {})
    except PydanticValidationError as exc:
        raise ValidationFailed(
            validation_errors_from_pydantic(exc.errors(include_url=False))
        ) from None


def _common(request: Request) -> CommonSettings:
    common: CommonSettings = request.app.state.common_settings
    return common


def _checked_assignees(request: Request, *, project_id: int, users: list[int], kind: str) -> None:
    roles = members.member_roles(_common(request), project_id=project_id, user_ids=users)
    assignments.check_assignees(roles, kind=kind)


@router.post(
    "/api/projects/{project_id:int}/tasks/assignees",
    response_model=BulkAssignAnswer,
    openapi_extra=_documented_body(BulkAssigneesBody),
)
def bulk_assign(
    project_id: int,
    request: Request,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    raw: RawBody = None,
) -> BulkAssignAnswer:
    """Assign the selected tasks (selectedItems within the filters or the view's) to each
    user; 400 naming the user when it would take someone past the project's cap.

    The body is `BulkAssigneesBody`."""
    access.project_for(projects, principal, project_id, access.can_assign_tasks)
    body = _parse(BulkAssigneesBody, raw)
    project, selection = dm.prepare(
        session,
        projects,
        principal,
        project_id=project_id,
        view_id=body.view,
        payload={"filters": body.filters, "selectedItems": body.selectedItems},
        policy=access.can_assign_tasks,
        use_view_selection=True,
    )
    if body.view is not None:
        # The view's stored filters apply; the request's selectedItems pick within them.
        selection = dm.Selection(
            filters=selection.filters, selected_items=body.selectedItems, ordering=None
        )
    compiled = dm.compile_selection(session, project_id=project.id, selection=selection)
    kind = KIND_BY_TYPE[body.type]
    _checked_assignees(request, project_id=project.id, users=body.users, kind=kind)
    made = assignments.assign(
        session,
        project=project,
        where=compiled.where,
        user_ids=body.users,
        kind=kind,
        assigned_by=principal.user_id,
    )
    session.commit()
    return BulkAssignAnswer(assignments=made)


@router.get(
    "/api/projects/{project_id:int}/tasks/{task_id:int}/assignees",
    response_model=list[TaskAssignmentAnswer],
)
def list_task_assignees(
    project_id: int, task_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> list[TaskAssignmentAnswer]:
    """Who is assigned to the task (managers and up, who hand out the work)."""
    task, _ = _task_to_assign(session, projects, principal, project_id, task_id)
    return [
        assignment_fields(row) for row in assignments.task_assignments(session, task_id=task.id)
    ]


def _task_to_assign(
    session: DbSession, projects: Projects, principal: CurrentUser, project_id: int, task_id: int
) -> tuple[Task, ProjectInfo]:
    task, project = access.task_for(session, projects, principal, task_id, access.can_assign_tasks)
    if task.project_id != project_id:
        raise NotFound()
    return task, project


@router.post(
    "/api/projects/{project_id:int}/tasks/{task_id:int}/assignees",
    status_code=201,
    response_model=TaskAssignmentAnswer,
    openapi_extra=_documented_body(AssigneesBody),
)
def assign_task(
    project_id: int,
    task_id: int,
    request: Request,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    raw: RawBody = None,
) -> TaskAssignmentAnswer:
    """Add assignees to the task (body: `AssigneesBody`); answers the first of them
    (Label Studio's shape)."""
    task, project = _task_to_assign(session, projects, principal, project_id, task_id)
    body = _parse(AssigneesBody, raw)
    kind = KIND_BY_TYPE[body.type]
    _checked_assignees(request, project_id=project.id, users=body.users, kind=kind)
    assignments.assign(
        session,
        project=project,
        where=[Task.id == task.id],
        user_ids=body.users,
        kind=kind,
        assigned_by=principal.user_id,
    )
    session.commit()
    rows = assignments.task_assignments(session, task_id=task.id, user_ids=body.users, kind=kind)
    return assignment_fields(rows[0])


@router.patch(
    "/api/projects/{project_id:int}/tasks/{task_id:int}/assignees",
    response_model=TaskAssignmentAnswer,
    openapi_extra=_documented_body(AssigneesBody),
)
def replace_task_assignees(
    project_id: int,
    task_id: int,
    request: Request,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    raw: RawBody = None,
) -> TaskAssignmentAnswer:
    """The task's assignees of this type become exactly `users` (body: `AssigneesBody`)."""
    task, project = _task_to_assign(session, projects, principal, project_id, task_id)
    body = _parse(AssigneesBody, raw)
    kind = KIND_BY_TYPE[body.type]
    _checked_assignees(request, project_id=project.id, users=body.users, kind=kind)
    assignments.replace(
        session,
        project=project,
        task_id=task.id,
        user_ids=body.users,
        kind=kind,
        assigned_by=principal.user_id,
    )
    session.commit()
    rows = assignments.task_assignments(session, task_id=task.id, user_ids=body.users, kind=kind)
    return assignment_fields(rows[0])


def _user_list(raw: str | None) -> list[int] | None:
    if raw is None or raw == "":
        return None
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ValidationFailed({"users": ["Must be comma-separated user ids."]}) from None


@router.delete("/api/projects/{project_id:int}/tasks/{task_id:int}/assignees", status_code=204)
def unassign_task(
    project_id: int,
    task_id: int,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    type: str | None = None,
    users: str | None = None,
) -> Response:
    """Remove the task's assignees (of `type`, and only `users`, when given)."""
    task, project = _task_to_assign(session, projects, principal, project_id, task_id)
    if type is not None and type not in KIND_BY_TYPE:
        raise ValidationFailed({"type": ['Must be "AN" or "RE".']})
    assignments.unassign(
        session,
        project=project,
        where=[Task.id == task.id],
        user_ids=_user_list(users),
        kind=KIND_BY_TYPE[type] if type is not None else None,
    )
    session.commit()
    return Response(status_code=204)


@router.get("/api/projects/{project_id:int}/assignments", response_model=list[QueueAnswer])
def list_queues(
    project_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> list[QueueAnswer]:
    """Each person's queue in the project: tasks assigned, finished and still open."""
    project = access.project_for(projects, principal, project_id, access.can_assign_tasks)
    return [
        QueueAnswer(
            user=queue.user_id,
            type=TYPE_BY_KIND[queue.kind],
            assigned=queue.assigned,
            done=queue.done,
            open=queue.assigned - queue.done,
        )
        for queue in assignments.queues(session, project_id=project.id)
    ]

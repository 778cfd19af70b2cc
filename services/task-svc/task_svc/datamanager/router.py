"""`/api/dm/*` and `GET /api/tasks`: Label Studio's data manager (thin)."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import authorize
from labelops_common.http.answers import documented, json_answer
from labelops_common.http.errors import ValidationFailed, validation_errors_from_pydantic
from labelops_common.http.routing import ApiRouter
from labelops_common.settings import CommonSettings
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from task_svc import access
from task_svc.audit import service as audit
from task_svc.datamanager import actions
from task_svc.datamanager import service as dm
from task_svc.datamanager.schemas import (
    ActionAnswer,
    ActionFormSection,
    ActionResultAnswer,
    ColumnsAnswer,
    DataManagerProjectAnswer,
    TaskPageAnswer,
    ViewAnswer,
    ViewCreate,
    ViewOrder,
    ViewUpdate,
    view_fields,
)
from task_svc.dependencies import DbSession, Projects, TaskSettings
from task_svc.fieldindexes import service as fieldindexes
from task_svc.fieldindexes.schemas import FieldIndexAnswer

router = ApiRouter(tags=["datamanager"])

Model = TypeVar("Model", bound=BaseModel)


async def json_payload(request: Request) -> dict[str, Any]:
    """The request's JSON object (or form fields); empty when there is no body.

    Label Studio reads the data manager's parameters from the body of GETs as well, so
    this cannot be a Pydantic body parameter.
    """
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        return {key: value for key, value in form.items() if isinstance(value, str)}
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise ValidationFailed(
            {"non_field_errors": [f"JSON parse error: {exc}"]}, detail="JSON parse error"
        ) from None
    if not isinstance(parsed, dict):
        raise ValidationFailed({"non_field_errors": ["Expected a JSON object."]})
    return parsed


Payload = Annotated[dict[str, Any], Depends(json_payload)]


def _common(request: Request) -> CommonSettings:
    common: CommonSettings = request.app.state.common_settings
    return common


Common = Annotated[CommonSettings, Depends(_common)]


def _parse(model: type[Model], payload: dict[str, Any]) -> Model:
    try:
        return model.model_validate(payload)
    except PydanticValidationError as exc:
        raise ValidationFailed(
            validation_errors_from_pydantic(exc.errors(include_url=False))
        ) from None


def _required_project(value: Any) -> int:
    if value is None or value == "":
        raise ValidationFailed({"project": ["This field is required."]})
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed({"project": ["A valid integer is required."]}) from None


# --------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------


@router.get("/api/dm/views", response_model=list[ViewAnswer])
def list_views(
    session: DbSession, projects: Projects, principal: CurrentUser, project: str | None = None
) -> list[dict[str, Any]]:
    project_id = _required_project(project)
    access.project_for(projects, principal, project_id, access.can_view_tasks)
    return [view_fields(view) for view in dm.list_views(session, project_id=project_id)]


@router.post("/api/dm/views", status_code=201, response_model=ViewAnswer)
def create_view(
    payload: Payload, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    body = _parse(ViewCreate, payload)
    access.project_for(projects, principal, body.project, access.can_view_tasks)
    view = dm.create_view(
        session, project_id=body.project, data=body.data, user_id=principal.user_id
    )
    session.commit()
    return view_fields(view)


@router.delete("/api/dm/views/reset", status_code=204)
def reset_views(
    payload: Payload,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    project: str | None = None,
) -> Response:
    """Delete every view of the project (managers only: the views are everyone's tabs)."""
    project_id = _required_project(project if project is not None else payload.get("project"))
    access.project_for(projects, principal, project_id, access.can_manage_tasks)
    dm.delete_project_views(session, project_id=project_id)
    session.commit()
    return Response(status_code=204)


@router.post("/api/dm/views/order", response_model=list[ViewAnswer])
def order_views(
    payload: Payload, session: DbSession, projects: Projects, principal: CurrentUser
) -> list[dict[str, Any]]:
    body = _parse(ViewOrder, payload)
    project = access.project_for(projects, principal, body.project, access.can_view_tasks)
    views = dm.order_views(session, principal=principal, project=project, ids=body.ids)
    session.commit()
    return [view_fields(view) for view in views]


@router.get("/api/dm/views/{view_id:int}", response_model=ViewAnswer)
def get_view(
    view_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    view, _ = dm.view_for(session, projects, principal, view_id)
    return view_fields(view)


def _update_view(
    view_id: int,
    payload: dict[str, Any],
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> dict[str, Any]:
    body = _parse(ViewUpdate, payload)
    view, _ = dm.view_for(session, projects, principal, view_id, change=True)
    if body.project is not None and body.project != view.project_id:
        raise ValidationFailed({"project": ["A view cannot move to another project."]})
    dm.update_view(session, view=view, data=body.data)
    session.commit()
    return view_fields(view)


@router.patch("/api/dm/views/{view_id:int}", response_model=ViewAnswer)
def patch_view(
    view_id: int, payload: Payload, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    return _update_view(view_id, payload, session, projects, principal)


@router.put("/api/dm/views/{view_id:int}", response_model=ViewAnswer)
def put_view(
    view_id: int, payload: Payload, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    return _update_view(view_id, payload, session, projects, principal)


@router.delete("/api/dm/views/{view_id:int}", status_code=204)
def delete_view(
    view_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> Response:
    view, _ = dm.view_for(session, projects, principal, view_id, change=True)
    session.delete(view)
    session.commit()
    return Response(status_code=204)


# --------------------------------------------------------------------------------------
# Task list
# --------------------------------------------------------------------------------------


@router.get("/api/tasks", response_model=None, responses=documented(TaskPageAnswer))
def list_tasks(
    payload: Payload,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    settings: TaskSettings,
    project: str | None = None,
    view: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
    fields: str | None = None,
    query: str | None = None,
) -> Response:
    """The data manager's task list: `{"tasks", "total", "total_annotations", ...}`.

    Its hottest path: the page is built here and not validated (`documented`)."""
    if fields not in (None, "", "all", "task_only"):
        raise ValidationFailed({"fields": ['Must be "all" or "task_only".']})
    selection_payload = dm.parse_query(query) if query is not None else payload
    found_project, selection = dm.prepare(
        session,
        projects,
        principal,
        project_id=project if project is not None else payload.get("project"),
        view_id=view if view is not None else payload.get("view"),
        payload=selection_payload,
        policy=access.can_view_tasks,
        use_view_selection=False,
    )
    page_number, size = dm.parse_page(page, page_size)
    compiled = dm.compile_selection(
        session,
        project_id=found_project.id,
        selection=selection,
        visible=access.visible_tasks(principal, found_project),
        viewer=principal.user_id,
    )
    return json_answer(
        dm.list_tasks(
            session,
            compiled=compiled,
            page=page_number,
            size=size,
            full=fields == "all",
            user_id=principal.user_id,
            annotations_by=access.annotations_visible_to(principal, found_project),
            index_min_tasks=settings.data_field_index_min_tasks,
        )
    )


@router.get("/api/dm/field-indexes", response_model=list[FieldIndexAnswer])
def list_field_indexes(
    session: DbSession, projects: Projects, principal: CurrentUser, project: str | None = None
) -> list[dict[str, Any]]:
    """The project's data-field indexes, their state and size (read-only, for operators)."""
    project_id = _required_project(project)
    access.project_for(projects, principal, project_id, access.can_view_tasks)
    return [
        {
            "id": row.id,
            "filter_key": row.filter_key,
            "order_key": row.order_key,
            "state": row.state,
            "created_at": row.created_at.isoformat(),
            "built_at": row.built_at.isoformat() if row.built_at is not None else None,
            "last_used_at": row.last_used_at.isoformat(),
            "entries": row.entries,
        }
        for row in fieldindexes.list_definitions(session, project_id=project_id)
    ]


# --------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------


@router.get("/api/dm/actions", response_model=list[ActionAnswer], response_model_exclude_unset=True)
def list_actions(
    projects: Projects, principal: CurrentUser, project: str | None = None
) -> list[dict[str, Any]]:
    found = access.project_for(
        projects, principal, _required_project(project), access.can_view_tasks
    )
    return actions.list_actions(principal, found)


@router.get("/api/dm/actions/{action_id}/form", response_model=list[ActionFormSection] | None)
def action_form(
    action_id: str,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    project: str | None = None,
) -> list[dict[str, Any]] | None:
    found = access.project_for(
        projects, principal, _required_project(project), access.can_view_tasks
    )
    action = actions.get_action(action_id)
    authorize(action.policy(principal, found))
    return actions.action_form(session, action=action, project=found)


@router.post(
    "/api/dm/actions", response_model=ActionResultAnswer, response_model_exclude_unset=True
)
def run_action(
    payload: Payload,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    common: Common,
    project: str | None = None,
    id: str | None = None,
    view: str | None = None,
) -> dict[str, Any]:
    project_value = project if project is not None else payload.get("project")
    view_value = view if view is not None else payload.get("view")
    if project_value is None and view_value is None:
        _required_project(None)
    found, selection = dm.prepare(
        session,
        projects,
        principal,
        project_id=project_value,
        view_id=view_value,
        payload=payload,
        policy=access.can_view_tasks,
        use_view_selection=True,
    )
    action = actions.get_action(id)
    authorize(action.policy(principal, found))
    compiled = dm.compile_selection(
        session,
        project_id=found.id,
        selection=selection,
        visible=access.visible_tasks(principal, found),
        viewer=principal.user_id,
    )
    result = action.run(
        session,
        actions.ActionContext(
            project=found,
            principal=principal,
            selection=compiled,
            params=payload,
            common=common,
        ),
    )
    processed = result.get("processed_items")
    if processed is None or processed:
        audit.bulk_action_run(
            session,
            principal,
            project_id=found.id,
            action_id=action.id,
            processed=processed,
            selected_items=payload.get("selectedItems"),
        )
    session.commit()
    return result


# --------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------


@router.get("/api/dm/project", response_model=DataManagerProjectAnswer)
def data_manager_project(
    session: DbSession, projects: Projects, principal: CurrentUser, project: str | None = None
) -> DataManagerProjectAnswer:
    """What the data manager needs to know of a project: its data types, sizes and what
    the caller may do there."""
    found = access.project_for(
        projects, principal, _required_project(project), access.can_view_tasks
    )
    return dm.data_manager_project(session, project=found, principal=principal)


@router.get("/api/dm/columns", response_model=ColumnsAnswer, response_model_exclude_unset=True)
def list_columns(
    projects: Projects, principal: CurrentUser, project: str | None = None
) -> dict[str, Any]:
    found = access.project_for(
        projects, principal, _required_project(project), access.can_view_tasks
    )
    return {"columns": dm.columns(found)}

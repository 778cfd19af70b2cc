"""`/api/fsm/entities/{entity_name}/{entity_id}/history` and `.../transition/` (thin).

Label Studio serves these behind its FSM feature flags; here they are always on. A
history is visible to whoever may see the entity's project (404 otherwise, so ids don't
leak); a manual transition is a manager's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.permissions import Action, can
from labelops_common.http.errors import ValidationFailed
from labelops_common.http.pagination import check_page_exists, page_envelope, page_request
from labelops_common.http.params import parse_optional_int
from labelops_common.http.routing import ApiRouter

from task_svc import access
from task_svc.dependencies import DbSession, Projects, Users
from task_svc.fsm import service as fsm_service
from task_svc.fsm.schemas import (
    StateAnswer,
    StatePage,
    TransitionAnswer,
    TransitionRequest,
    state_answer,
)

router = ApiRouter(tags=["fsm"])

#: Label Studio's `FSMEntityHistoryPagination`.
PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000


def _parse_time(value: str | None, *, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            {field: ["Enter a valid date/time (ISO 8601, YYYY-MM-DDTHH:MM:SS)."]}
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.get("/api/fsm/entities/{entity_name}/{entity_id:int}/history", response_model=StatePage)
def state_history(
    request: Request,
    entity_name: str,
    entity_id: int,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    users: Users,
    created_at_from: str | None = None,
    created_at_to: str | None = None,
    state: str | None = None,
    previous_state: str | None = None,
    transition_name: str | None = None,
    triggered_by: str | None = None,
    ordering: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
) -> StatePage:
    """The entity's state rows, newest first unless `ordering=id`."""
    fsm_service.check_entity_name(entity_name)
    if ordering not in (None, "", *fsm_service.ORDERINGS):
        raise ValidationFailed({"ordering": [f"Unknown ordering '{ordering}': one of id, -id."]})
    query = fsm_service.HistoryQuery(
        entity_name=entity_name,
        entity_id=entity_id,
        project_id=fsm_service.entity_project_id(
            session, entity_name=entity_name, entity_id=entity_id
        ),
        created_at_from=_parse_time(created_at_from, field="created_at_from"),
        created_at_to=_parse_time(created_at_to, field="created_at_to"),
        state=state or None,
        previous_state=previous_state or None,
        transition_name=transition_name or None,
        triggered_by=parse_optional_int(triggered_by, field="triggered_by"),
        ordering=ordering or "-id",
    )
    project = access.project_for(projects, principal, query.project_id, access.can_view_tasks)
    paging = page_request(page, page_size, default_size=PAGE_SIZE_DEFAULT, max_size=PAGE_SIZE_MAX)
    total = fsm_service.count_history(session, query=query)
    check_page_exists(paging, total)
    rows = fsm_service.list_history(
        session, query=query, offset=paging.offset, limit=paging.page_size
    )
    # Label Studio leaves out who triggered a change when an annotator asks.
    show_users = can(principal, Action.VIEW_OTHERS_ANNOTATIONS)
    people = (
        users.describe(project.organization_id, [row["triggered_by_id"] for row in rows])
        if show_users
        else {}
    )
    results: list[StateAnswer] = [
        state_answer(
            row,
            people.get(row["triggered_by_id"], {"id": row["triggered_by_id"]})
            if show_users and row["triggered_by_id"] is not None
            else None,
        )
        for row in rows
    ]
    return StatePage.model_validate(
        page_envelope(url=request.url, request=paging, total=total, results=results)
    )


@router.post(
    "/api/fsm/entities/{entity_name}/{entity_id:int}/transition/",
    response_model=TransitionAnswer,
)
def execute_transition(
    entity_name: str,
    entity_id: int,
    body: TransitionRequest,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    users: Users,
) -> TransitionAnswer:
    """Run a manual transition by name (managers and above)."""
    fsm_service.check_entity_name(entity_name)
    project_id = fsm_service.entity_project_id(
        session, entity_name=entity_name, entity_id=entity_id
    )
    project = access.project_for(projects, principal, project_id, access.can_manage_tasks)
    row = fsm_service.execute_transition(
        session,
        entity_name=entity_name,
        entity_id=entity_id,
        project_id=project.id,
        transition_name=body.transition_name,
        transition_data=body.transition_data,
        user_id=principal.user_id,
    )
    session.commit()
    person = users.describe(project.organization_id, [principal.user_id]).get(
        principal.user_id, {"id": principal.user_id}
    )
    return TransitionAnswer(
        success=True, new_state=row["state"], state_record=state_answer(row, person)
    )

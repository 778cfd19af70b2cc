"""`GET|POST /api/projects/{id}/next`: Label Studio's label stream (thin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Request, Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.principal import Principal
from labelops_common.http.answers import documented, json_answer
from labelops_common.http.errors import NotFound
from labelops_common.http.routing import ApiRouter

from task_svc import access
from task_svc.dependencies import DbSession, Projects
from task_svc.labelstream import prelabels
from task_svc.labelstream import service as stream
from task_svc.labelstream.schemas import NextTaskAnswer, dm_params, next_task_response
from task_svc.media.service import MediaResolver
from task_svc.settings import Settings
from task_svc.tasks import service as tasks

router = ApiRouter(tags=["labelstream"])

NOTHING_LEFT = "There are no more tasks to label in this project."

#: Asked for on every task an annotator opens: built here and not validated (`documented`).
NEXT_TASK_RESPONSES = documented(NextTaskAnswer)


def _next(
    request: Request,
    project_id: int,
    params: dict[str, Any],
    session: DbSession,
    projects: Projects,
    principal: Principal,
) -> Response:
    project = access.project_for(projects, principal, project_id, access.can_annotate)
    scope = stream.scope_from(params)
    settings: Settings = request.app.state.settings
    picked = stream.next_task(
        session,
        project=project,
        user_id=principal.user_id,
        scope=scope,
        ttl_seconds=project.reservation_timeout_seconds or settings.task_lock_ttl_seconds,
    )
    if picked is None:
        session.rollback()
        raise NotFound(NOTHING_LEFT)
    session.commit()
    task_id = picked.task.id
    _, predictions, drafts = tasks.related(session, [task_id], user_id=principal.user_id)
    if prelabels.wants_prelabel(project, predictions[task_id]) and prelabels.prelabel(
        session,
        common=request.app.state.common_settings,
        project=project,
        task_id=task_id,
        timeout_seconds=settings.prelabel_timeout_seconds,
    ):
        _, predictions, _ = tasks.related(session, [task_id])
    answer = next_task_response(
        picked,
        project=project,
        predictions=predictions[task_id],
        drafts=drafts[task_id],
        rejected=stream.rejected_annotations(session, task_id=task_id, user_id=principal.user_id),
    )
    media: MediaResolver = request.app.state.media_resolver
    answer["data"] = media.resolve_data(
        project_id=project.id, task_id=picked.task.id, data=answer["data"]
    )
    return json_answer(answer)


@router.get(
    "/api/projects/{project_id:int}/next", response_model=None, responses=NEXT_TASK_RESPONSES
)
def next_task(
    project_id: int,
    request: Request,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    query: str | None = None,
) -> Response:
    """The caller's next task; `?query=` may carry data-manager filters and ordering."""
    return _next(request, project_id, dm_params(None, query), session, projects, principal)


@router.post(
    "/api/projects/{project_id:int}/next", response_model=None, responses=NEXT_TASK_RESPONSES
)
def next_task_filtered(
    project_id: int,
    request: Request,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    body: Annotated[Any, Body()] = None,
    query: str | None = None,
) -> Response:
    """The same, restricted by a body of data-manager params (filters, ordering, selectedItems)."""
    return _next(request, project_id, dm_params(body, query), session, projects, principal)

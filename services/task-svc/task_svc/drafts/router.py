"""Drafts: `/api/tasks/{id}/drafts`, `/api/drafts/{id}` and annotation-to-draft (thin)."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import authorize
from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import NotFound
from labelops_common.http.routing import ApiRouter

from task_svc import access
from task_svc.annotations import service as annotation_service
from task_svc.annotations.models import Annotation
from task_svc.dependencies import DbSession, Projects
from task_svc.drafts import service as drafts
from task_svc.drafts.models import Draft
from task_svc.drafts.schemas import DraftCreate, DraftDetailAnswer, DraftUpdate, draft_response

router = ApiRouter(tags=["drafts"])


@router.get("/api/tasks/{task_id:int}/drafts", response_model=list[DraftDetailAnswer])
def list_task_drafts(
    task_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> list[dict[str, Any]]:
    """The caller's drafts of the task (nobody sees another user's drafts)."""
    access.task_for(session, projects, principal, task_id, access.can_annotate)
    found = drafts.user_drafts(session, task_id=task_id, user_id=principal.user_id)
    return [draft_response(d, email=principal.email) for d in found]


@router.post("/api/tasks/{task_id:int}/drafts", status_code=201, response_model=DraftDetailAnswer)
def create_task_draft(
    task_id: int,
    body: DraftCreate,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> dict[str, Any]:
    task, project = access.task_for(session, projects, principal, task_id, access.can_annotate)
    draft = drafts.create_draft(
        session, task=task, project=project, body=body, user_id=principal.user_id
    )
    session.commit()
    return draft_response(draft, email=principal.email)


@router.post(
    "/api/tasks/{task_id:int}/annotations/{annotation_id:int}/drafts",
    status_code=201,
    response_model=DraftDetailAnswer,
)
def create_annotation_draft(
    task_id: int,
    annotation_id: int,
    body: DraftCreate,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> dict[str, Any]:
    """A draft on top of an existing annotation of the task (someone else's too: a review),
    one the caller sees."""
    task, project = access.task_for(session, projects, principal, task_id, access.can_annotate)
    annotation = drafts.task_annotation(session, task=task, annotation_id=annotation_id)
    if not access.can_see_annotation(principal, project, annotation.completed_by_id):
        raise NotFound()
    draft = drafts.create_draft(
        session,
        task=task,
        project=project,
        body=body,
        user_id=principal.user_id,
        annotation_id=annotation.id,
    )
    session.commit()
    return draft_response(draft, email=principal.email)


def _own_draft(
    session: DbSession, projects: Projects, principal: CurrentUser, draft_id: int
) -> tuple[Draft, ProjectInfo]:
    draft = drafts.get_own_draft(session, draft_id=draft_id, user_id=principal.user_id)
    project = access.project_for(projects, principal, draft.project_id, access.can_annotate)
    return draft, project


@router.get("/api/drafts/{draft_id:int}", response_model=DraftDetailAnswer)
def get_draft(
    draft_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    draft, _ = _own_draft(session, projects, principal, draft_id)
    return draft_response(draft, email=principal.email)


@router.patch("/api/drafts/{draft_id:int}", response_model=DraftDetailAnswer)
def update_draft(
    draft_id: int,
    body: DraftUpdate,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> dict[str, Any]:
    draft, project = _own_draft(session, projects, principal, draft_id)
    drafts.update_draft(session, draft=draft, project=project, body=body)
    session.commit()
    return draft_response(draft, email=principal.email)


@router.delete("/api/drafts/{draft_id:int}", status_code=204)
def delete_draft(
    draft_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> Response:
    draft, _ = _own_draft(session, projects, principal, draft_id)
    drafts.delete_draft(session, draft=draft)
    session.commit()
    return Response(status_code=204)


@router.post(
    "/api/annotations/{annotation_id:int}/convert-to-draft",
    status_code=201,
    response_model=DraftDetailAnswer,
)
def convert_annotation_to_draft(
    annotation_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    """The annotation becomes the caller's draft and is deleted (who may change it may do this)."""
    annotation = annotation_service.get_annotation(session, annotation_id)
    project = access.project_for(projects, principal, annotation.project_id, access.can_annotate)
    authorize(access.can_change_annotation(principal, project, annotation.completed_by_id))
    task = access.lock_task(session, annotation.task_id)
    # Read again under the task's lock: a concurrent delete or convert may have won.
    current = session.get(Annotation, annotation_id, populate_existing=True)
    if task is None or current is None:
        raise NotFound()
    draft = drafts.convert_to_draft(
        session, annotation=current, task=task, project=project, user_id=principal.user_id
    )
    session.commit()
    return draft_response(draft, email=principal.email)

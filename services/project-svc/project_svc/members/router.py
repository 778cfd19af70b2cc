"""`/api/projects/{id}/members/`: which annotators and reviewers see a project.

The paths and bodies are Label Studio Enterprise's (the SDK's `projects.members`). Managers
and up manage members and see every project without being one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Query, Response
from labelops_common.audit import record_audit
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import authorize
from labelops_common.http.errors import NotFound, ValidationFailed
from labelops_common.http.routing import ApiRouter

from project_svc.dependencies import DbSession
from project_svc.members import service as members
from project_svc.members.schemas import ProjectMemberAnswer, ProjectMemberBody, member_response
from project_svc.projects import policies
from project_svc.projects import service as projects
from project_svc.users.models import User

router = ApiRouter(tags=["projects"])


@router.get("/api/projects/{project_id:int}/members/", response_model=list[ProjectMemberAnswer])
def list_members(
    project_id: int, session: DbSession, principal: CurrentUser
) -> list[ProjectMemberAnswer]:
    project = projects.get_project(session, project_id=project_id, principal=principal)
    authorize(policies.can_manage_members(principal, project.organization_id))
    return [
        member_response(member, user)
        for member, user in members.list_members(session, project_id=project.id)
    ]


@router.post(
    "/api/projects/{project_id:int}/members/", status_code=201, response_model=ProjectMemberAnswer
)
def add_member(
    project_id: int, body: ProjectMemberBody, session: DbSession, principal: CurrentUser
) -> ProjectMemberAnswer:
    project = projects.get_project(session, project_id=project_id, principal=principal)
    authorize(policies.can_manage_members(principal, project.organization_id))
    member = members.add_member(
        session, project=project, user_id=body.user, added_by_id=principal.user_id
    )
    record_audit(
        session,
        principal,
        "project_member.added",
        ("user", member.user_id),
        project_id=project.id,
    )
    session.commit()
    user = session.get(User, member.user_id)
    if user is None:
        raise NotFound()  # deleted between the commit and this read
    return member_response(member, user)


@router.delete("/api/projects/{project_id:int}/members/", status_code=204)
def remove_member(
    project_id: int,
    session: DbSession,
    principal: CurrentUser,
    user: Annotated[int | None, Query()] = None,
    body: Annotated[ProjectMemberBody | None, Body()] = None,
) -> Response:
    """The member comes as `?user=`, or (Label Studio's older form) as a JSON body."""
    project = projects.get_project(session, project_id=project_id, principal=principal)
    authorize(policies.can_manage_members(principal, project.organization_id))
    user_id = user if user is not None else (body.user if body is not None else None)
    if user_id is None:
        raise ValidationFailed({"user": ["This field is required."]})
    if not members.remove_member(session, project_id=project.id, user_id=user_id):
        raise NotFound()
    record_audit(
        session, principal, "project_member.removed", ("user", user_id), project_id=project.id
    )
    session.commit()
    return Response(status_code=204)

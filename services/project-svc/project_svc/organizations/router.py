"""`/api/organizations`: the caller's organization and its members."""

from __future__ import annotations

from fastapi import Request, Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import authorize
from labelops_common.auth.principal import Role
from labelops_common.http.answers import Page
from labelops_common.http.errors import NotFound
from labelops_common.http.pagination import check_page_exists, page_envelope, page_request
from labelops_common.http.routing import ApiRouter

from project_svc.dependencies import DbSession
from project_svc.organizations import policies
from project_svc.organizations import service as organizations
from project_svc.organizations.models import Organization
from project_svc.organizations.schemas import (
    MembershipAnswer,
    OrganizationAnswer,
    OrganizationBrief,
    OrganizationUpdate,
    organization_brief,
    organization_response,
)
from project_svc.users.schemas import user_response

router = ApiRouter(tags=["organizations"])


def _organization_in_scope(
    session: DbSession, principal: CurrentUser, organization_id: int
) -> Organization:
    if not policies.can_view_organization(principal, organization_id):
        raise NotFound()
    return organizations.get_organization(session, organization_id=organization_id)


@router.get("/api/organizations", response_model=list[OrganizationBrief])
def list_organizations(session: DbSession, principal: CurrentUser) -> list[OrganizationBrief]:
    organization = organizations.get_organization(
        session, organization_id=principal.organization_id
    )
    return [organization_brief(organization)]


@router.get("/api/organizations/{organization_id:int}", response_model=OrganizationAnswer)
def get_organization(
    organization_id: int, session: DbSession, principal: CurrentUser
) -> OrganizationAnswer:
    return organization_response(_organization_in_scope(session, principal, organization_id))


@router.patch("/api/organizations/{organization_id:int}", response_model=OrganizationAnswer)
def update_organization(
    organization_id: int, body: OrganizationUpdate, session: DbSession, principal: CurrentUser
) -> OrganizationAnswer:
    organization = _organization_in_scope(session, principal, organization_id)
    authorize(policies.can_update_organization(principal, organization_id))
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(organization, name, value)
    session.commit()
    return organization_response(organization)


@router.get(
    "/api/organizations/{organization_id:int}/memberships", response_model=Page[MembershipAnswer]
)
def list_memberships(
    organization_id: int,
    request: Request,
    session: DbSession,
    principal: CurrentUser,
    page: str | None = None,
    page_size: str | None = None,
) -> Page[MembershipAnswer]:
    _organization_in_scope(session, principal, organization_id)
    authorize(policies.can_list_members(principal, organization_id))
    paging = page_request(page, page_size, default_size=20, max_size=100)
    total = organizations.count_members(session, organization_id=organization_id)
    check_page_exists(paging, total)
    rows = organizations.list_memberships(
        session, organization_id=organization_id, offset=paging.offset, limit=paging.page_size
    )
    results = [
        MembershipAnswer(
            id=membership.id,
            organization=membership.organization_id,
            role=Role(membership.role),
            user=user_response(user),
        )
        for membership, user in rows
    ]
    return Page[MembershipAnswer].model_validate(
        page_envelope(url=request.url, request=paging, total=total, results=results)
    )


@router.delete(
    "/api/organizations/{organization_id:int}/memberships/{user_id:int}", status_code=204
)
def remove_member(
    organization_id: int, user_id: int, session: DbSession, principal: CurrentUser
) -> Response:
    _organization_in_scope(session, principal, organization_id)
    authorize(policies.can_remove_member(principal, organization_id))
    authorize(user_id != principal.user_id, "You cannot remove yourself.")
    role = organizations.member_role(session, organization_id=organization_id, user_id=user_id)
    authorize(policies.can_remove_member_of_rank(principal, user_id=user_id, role=role))
    organizations.deactivate_member(session, organization_id=organization_id, user_id=user_id)
    session.commit()
    return Response(status_code=204)

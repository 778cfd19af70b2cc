"""`/api/organizations`: the caller's organization and its members."""

from __future__ import annotations

from fastapi import Request, Response
from labelops_common.audit import column_values, record_audit
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import authorize
from labelops_common.auth.principal import Role
from labelops_common.http.answers import Page
from labelops_common.http.errors import NotFound
from labelops_common.http.pagination import check_page_exists, page_envelope, page_request
from labelops_common.http.routing import ApiRouter

from project_svc.audit import service as audit
from project_svc.dependencies import DbSession, ServiceSettings
from project_svc.organizations import policies
from project_svc.organizations import service as organizations
from project_svc.organizations.models import Organization, SessionPolicy
from project_svc.organizations.schemas import (
    InviteAnswer,
    MemberAnswer,
    MembershipAnswer,
    MembershipUpdate,
    OrganizationAnswer,
    OrganizationBrief,
    OrganizationUpdate,
    ProjectBrief,
    SessionPolicyAnswer,
    SessionPolicyUpdate,
    organization_brief,
    organization_response,
)
from project_svc.users import service as users
from project_svc.users.models import User
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
    before = column_values(organization)
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(organization, name, value)
    audit.object_updated(
        session,
        principal,
        "organization.updated",
        ("organization", organization_id),
        before=before,
        after=column_values(organization),
    )
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
    record_audit(session, principal, "organization_member.removed", ("user", user_id))
    session.commit()
    return Response(status_code=204)


@router.get(
    "/api/organizations/{organization_id:int}/memberships/{user_id:int}",
    response_model=MemberAnswer,
)
def get_member(
    organization_id: int, user_id: int, session: DbSession, principal: CurrentUser
) -> MemberAnswer:
    _organization_in_scope(session, principal, organization_id)
    authorize(policies.can_view_member(principal, organization_id, user_id))
    membership = organizations.active_member(
        session, organization_id=organization_id, user_id=user_id
    )
    created = organizations.projects_created_by(
        session, organization_id=organization_id, user_id=user_id
    )
    return MemberAnswer(
        user=user_id,
        organization=organization_id,
        role=Role(membership.role),
        created_at=membership.created_at.isoformat(),
        created_projects=[ProjectBrief(id=pid, title=title) for pid, title in created],
        contributed_to_projects=None,
        annotations_count=None,
        contributed_projects_count=None,
    )


@router.patch(
    "/api/organizations/{organization_id:int}/memberships/{user_id:int}",
    response_model=MembershipAnswer,
)
def change_member_role(
    organization_id: int,
    user_id: int,
    body: MembershipUpdate,
    session: DbSession,
    principal: CurrentUser,
) -> MembershipAnswer:
    """A new role takes effect at once: the member's sessions and tokens are revoked."""
    _organization_in_scope(session, principal, organization_id)
    membership = organizations.active_member(
        session, organization_id=organization_id, user_id=user_id
    )
    authorize(
        policies.can_change_member_role(
            principal,
            organization_id,
            user_id=user_id,
            role=Role(membership.role),
            new_role=body.role,
        ),
        "You can change the role of members below your rank, to a role up to your own.",
    )
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    if body.role.value != membership.role:
        record_audit(
            session,
            principal,
            "organization_member.role_changed",
            ("user", user_id),
            changes={"role": {"old": membership.role, "new": body.role.value}},
        )
        organizations.change_member_role(
            session, organization_id=organization_id, user_id=user_id, role=body.role
        )
        users.revoke_tokens(user)
    session.commit()
    return MembershipAnswer(
        id=membership.id,
        organization=organization_id,
        role=Role(membership.role),
        user=user_response(user),
    )


def _invite(request: Request, token: str) -> InviteAnswer:
    return InviteAnswer(
        token=token, invite_url=str(request.base_url).rstrip("/") + f"/user/signup/?token={token}"
    )


@router.get("/api/invite", response_model=InviteAnswer)
def get_invite(request: Request, session: DbSession, principal: CurrentUser) -> InviteAnswer:
    authorize(policies.can_invite(principal))
    organization = organizations.get_organization(
        session, organization_id=principal.organization_id
    )
    token = organizations.invite_token(session, organization=organization)
    session.commit()
    return _invite(request, token)


@router.post("/api/invite/reset-token", response_model=InviteAnswer)
def reset_invite(request: Request, session: DbSession, principal: CurrentUser) -> InviteAnswer:
    authorize(policies.can_reset_invite(principal))
    organization = organizations.get_organization(
        session, organization_id=principal.organization_id
    )
    token = organizations.reset_invite_token(session, organization=organization)
    record_audit(session, principal, "invite.reset", ("organization", organization.id))
    session.commit()
    return _invite(request, token)


def _policy_answer(policy: SessionPolicy) -> SessionPolicyAnswer:
    """An organization that never changed its policy has no row, so no times."""
    return SessionPolicyAnswer(
        max_session_age=policy.max_session_age,
        max_time_between_activity=policy.max_time_between_activity,
        created_at=policy.created_at.isoformat() if policy.created_at else None,
        updated_at=policy.updated_at.isoformat() if policy.updated_at else None,
    )


@router.get("/api/session-policy", response_model=SessionPolicyAnswer)
def get_session_policy(
    session: DbSession, principal: CurrentUser, settings: ServiceSettings
) -> SessionPolicyAnswer:
    authorize(policies.can_view_session_policy(principal))
    policy = organizations.session_policy(
        session,
        organization_id=principal.organization_id,
        default_minutes=settings.session_days * 1440,
    )
    return _policy_answer(policy)


@router.patch("/api/session-policy", response_model=SessionPolicyAnswer)
def update_session_policy(
    body: SessionPolicyUpdate, session: DbSession, principal: CurrentUser, settings: ServiceSettings
) -> SessionPolicyAnswer:
    authorize(policies.can_change_session_policy(principal))
    policy = organizations.session_policy(
        session,
        organization_id=principal.organization_id,
        default_minutes=settings.session_days * 1440,
    )
    before = column_values(policy)
    organizations.update_session_policy(
        session, policy=policy, changes=body.model_dump(exclude_none=True)
    )
    audit.object_updated(
        session,
        principal,
        "session_policy.updated",
        ("organization", principal.organization_id),
        before=before,
        after=column_values(policy),
    )
    session.commit()
    return _policy_answer(policy)

"""`/api/users` and `/api/current-user`: users of the caller's organization."""

from __future__ import annotations

from fastapi import Request, Response
from labelops_common.audit import column_values, record_audit, values_summary
from labelops_common.auth.authenticate import SESSION_COOKIE, CurrentUser
from labelops_common.auth.policies import authorize
from labelops_common.http.errors import NotFound
from labelops_common.http.routing import ApiRouter

from project_svc.accounts.cookies import set_session_cookie
from project_svc.audit import service as audit
from project_svc.dependencies import DbSession, SecretKey, ServiceSettings
from project_svc.organizations import service as organizations
from project_svc.tokens import service as tokens
from project_svc.users import policies
from project_svc.users import service as users
from project_svc.users.models import User
from project_svc.users.schemas import (
    HotkeysAnswer,
    HotkeysUpdate,
    LegacyTokenAnswer,
    UserAnswer,
    UserCreate,
    UserUpdate,
    WhoamiAnswer,
    user_response,
    whoami_response,
)

router = ApiRouter(tags=["users"])


def _caller(session: DbSession, principal: CurrentUser) -> User:
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound()
    return user


@router.get("/api/current-user/whoami", response_model=WhoamiAnswer)
def whoami(session: DbSession, principal: CurrentUser) -> WhoamiAnswer:
    user = _caller(session, principal)
    organization = organizations.get_organization(
        session, organization_id=principal.organization_id
    )
    return whoami_response(user, organization, principal.role)


@router.get("/api/current-user/hotkeys", response_model=HotkeysAnswer)
def get_hotkeys(session: DbSession, principal: CurrentUser) -> HotkeysAnswer:
    return HotkeysAnswer(custom_hotkeys=_caller(session, principal).custom_hotkeys or {})


@router.patch("/api/current-user/hotkeys", response_model=HotkeysAnswer)
def update_hotkeys(
    body: HotkeysUpdate, session: DbSession, principal: CurrentUser
) -> HotkeysAnswer:
    user = _caller(session, principal)
    user.custom_hotkeys = body.custom_hotkeys
    session.commit()
    return HotkeysAnswer(custom_hotkeys=user.custom_hotkeys)


@router.get("/api/current-user/token", response_model=LegacyTokenAnswer)
def get_legacy_token(
    session: DbSession, principal: CurrentUser, secret: SecretKey
) -> LegacyTokenAnswer:
    """The caller's own legacy key: the one place a secret is shown, to its owner only."""
    key = tokens.reveal_legacy_token(session, user_id=principal.user_id, secret=secret)
    session.commit()
    return LegacyTokenAnswer(token=key)


@router.post("/api/current-user/reset-token", status_code=201, response_model=LegacyTokenAnswer)
def reset_legacy_token(
    session: DbSession, principal: CurrentUser, secret: SecretKey
) -> LegacyTokenAnswer:
    key = tokens.set_legacy_token(session, user_id=principal.user_id, secret=secret)
    record_audit(session, principal, "token.reset", ("user", principal.user_id))
    session.commit()
    return LegacyTokenAnswer(token=key)


@router.post("/api/current-user/logout-everywhere", status_code=204)
def logout_everywhere(session: DbSession, principal: CurrentUser) -> Response:
    """Revokes every session cookie and JWT of the caller, personal access tokens included
    (at once here, elsewhere within `token_cache_seconds`); the legacy key has its own reset."""
    users.revoke_tokens(_caller(session, principal))
    record_audit(session, principal, "token.revoked_all", ("user", principal.user_id))
    session.commit()
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/api/users", response_model=list[UserAnswer])
def list_users(session: DbSession, principal: CurrentUser) -> list[UserAnswer]:
    authorize(policies.can_list_users(principal))
    return [
        user_response(user)
        for user in users.list_users(session, organization_id=principal.organization_id)
    ]


@router.post("/api/users", status_code=201, response_model=UserAnswer)
def create_user(body: UserCreate, session: DbSession, principal: CurrentUser) -> UserAnswer:
    authorize(policies.can_create_user(principal))
    authorize(
        policies.can_give_role(principal, body.role), "You cannot give a role above your own."
    )
    user = users.create_user(
        session,
        email=str(body.email),
        password=body.password,
        organization_id=principal.organization_id,
        role=body.role,
        username=body.username,
        first_name=body.first_name,
        last_name=body.last_name,
        phone=body.phone,
    )
    record_audit(
        session,
        principal,
        "user.created",
        ("user", user.id),
        changes=values_summary({"email": user.email, "role": body.role.value}),
    )
    session.commit()
    return user_response(user)


@router.get("/api/users/{user_id:int}", response_model=UserAnswer)
def get_user(user_id: int, session: DbSession, principal: CurrentUser) -> UserAnswer:
    user = users.get_user_in_organization(
        session, user_id=user_id, organization_id=principal.organization_id
    )
    authorize(policies.can_view_user(principal, user.id))
    return user_response(user)


@router.patch("/api/users/{user_id:int}", response_model=UserAnswer)
def update_user(
    user_id: int,
    body: UserUpdate,
    session: DbSession,
    principal: CurrentUser,
    request: Request,
    response: Response,
    secret: SecretKey,
    settings: ServiceSettings,
) -> UserAnswer:
    """A new password or role revokes the user's sessions and tokens; one who changes their
    own password in the browser gets a fresh session cookie."""
    user = users.get_user_in_organization(
        session, user_id=user_id, organization_id=principal.organization_id
    )
    role = organizations.member_role(
        session, organization_id=principal.organization_id, user_id=user.id
    )
    authorize(policies.can_update_user(principal, user.id, role))
    if body.role is not None:
        authorize(
            policies.can_give_role(principal, body.role), "You cannot give a role above your own."
        )
    changes = body.model_dump(exclude_unset=True, exclude={"current_password", "role"})
    if "email" in changes and changes["email"] is not None:
        changes["email"] = str(changes["email"])
    if user.id == principal.user_id:
        users.check_current_password(user, changes=changes, current_password=body.current_password)
    before = column_values(user)
    if body.role is not None and body.role != role:
        record_audit(
            session,
            principal,
            "organization_member.role_changed",
            ("user", user.id),
            changes={"role": {"old": role.value, "new": body.role.value}},
        )
        organizations.change_member_role(
            session, organization_id=principal.organization_id, user_id=user.id, role=body.role
        )
        users.revoke_tokens(user)
    version = user.token_version
    users.update_user(session, user=user, changes=changes)
    audit.object_updated(
        session,
        principal,
        "user.updated",
        ("user", user.id),
        before=before,
        after=column_values(user),
    )
    session.commit()
    renewed = organizations.principal_for(session, user=user)
    if (
        user.id == principal.user_id
        and user.token_version != version
        and request.cookies.get(SESSION_COOKIE)
        and renewed is not None
    ):
        set_session_cookie(
            response,
            request,
            user=user,
            principal=renewed,
            secret=secret,
            days=settings.session_days,
        )
    return user_response(user)


@router.delete("/api/users/{user_id:int}", status_code=204)
def delete_user(user_id: int, session: DbSession, principal: CurrentUser) -> Response:
    """Removes the user from the organization; their annotations keep their author id."""
    user = users.get_user_in_organization(
        session, user_id=user_id, organization_id=principal.organization_id
    )
    role = organizations.member_role(
        session, organization_id=principal.organization_id, user_id=user.id
    )
    authorize(policies.can_delete_user(principal, user.id, role))
    organizations.deactivate_member(
        session, organization_id=principal.organization_id, user_id=user.id
    )
    users.revoke_tokens(user)
    record_audit(session, principal, "user.deleted", ("user", user.id))
    session.commit()
    return Response(status_code=204)

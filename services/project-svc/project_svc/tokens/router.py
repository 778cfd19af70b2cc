"""`/api/token*` and `/api/jwt/settings`: personal access tokens (refresh JWTs)."""

from __future__ import annotations

from fastapi import Request, Response
from labelops_common.audit import changes_between, column_values, record_audit
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import authorize
from labelops_common.http.routing import ApiRouter

from project_svc.dependencies import DbSession, SecretKey
from project_svc.organizations import policies as organization_policies
from project_svc.organizations import service as organizations
from project_svc.tokens import service as tokens
from project_svc.tokens.schemas import (
    AccessTokenAnswer,
    JwtSettingsAnswer,
    JwtSettingsBody,
    PersonalTokenAnswer,
    RefreshBody,
    RefreshTokenAnswer,
)

router = ApiRouter(tags=["tokens"])


@router.get("/api/token", response_model=list[PersonalTokenAnswer])
def list_tokens(session: DbSession, principal: CurrentUser) -> list[PersonalTokenAnswer]:
    return [
        PersonalTokenAnswer(
            token=row.token_preview,
            created_at=row.created_at.isoformat(),
            expires_at=row.expires_at.isoformat(),
        )
        for row in tokens.list_personal_access_tokens(session, user_id=principal.user_id)
    ]


@router.post("/api/token", status_code=201, response_model=PersonalTokenAnswer)
def create_token(
    session: DbSession, principal: CurrentUser, secret: SecretKey
) -> PersonalTokenAnswer:
    issued = tokens.create_personal_access_token(session, principal=principal, secret=secret)
    record_audit(session, principal, "token.created", ("user", principal.user_id))
    session.commit()
    return PersonalTokenAnswer(
        token=issued.token,
        created_at=issued.created_at.isoformat(),
        expires_at=issued.expires_at.isoformat(),
    )


@router.post("/api/token/refresh", response_model=AccessTokenAnswer)
def refresh_token(
    body: RefreshBody, request: Request, session: DbSession, secret: SecretKey
) -> AccessTokenAnswer:
    """No caller authentication: the refresh token is the credential."""
    minutes = request.app.state.common_settings.access_token_minutes
    return AccessTokenAnswer(
        access=tokens.issue_access_token(
            session, refresh=body.refresh, secret=secret, minutes=minutes
        )
    )


@router.post("/api/token/blacklist", status_code=204)
def blacklist_token(body: RefreshBody, session: DbSession, secret: SecretKey) -> Response:
    tokens.blacklist_refresh_token(session, refresh=body.refresh, secret=secret)
    session.commit()
    return Response(status_code=204)


@router.post("/api/token/rotate", response_model=RefreshTokenAnswer)
def rotate_token(
    body: RefreshBody, session: DbSession, principal: CurrentUser, secret: SecretKey
) -> RefreshTokenAnswer:
    issued = tokens.rotate_refresh_token(
        session, refresh=body.refresh, principal=principal, secret=secret
    )
    session.commit()
    return RefreshTokenAnswer(refresh=issued.token)


@router.get("/api/jwt/settings", response_model=JwtSettingsAnswer)
def get_jwt_settings(session: DbSession, principal: CurrentUser) -> JwtSettingsAnswer:
    organization = organizations.get_organization(
        session, organization_id=principal.organization_id
    )
    return JwtSettingsAnswer(
        api_tokens_enabled=organization.api_tokens_enabled,
        legacy_api_tokens_enabled=organization.legacy_api_tokens_enabled,
        api_token_ttl_days=organization.api_token_ttl_days,
    )


@router.post("/api/jwt/settings", response_model=JwtSettingsAnswer)
def update_jwt_settings(
    body: JwtSettingsBody, session: DbSession, principal: CurrentUser
) -> JwtSettingsAnswer:
    authorize(organization_policies.can_update_organization(principal, principal.organization_id))
    organization = organizations.get_organization(
        session, organization_id=principal.organization_id
    )
    before = column_values(organization)
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(organization, name, value)
    changes = changes_between(before, column_values(organization))
    if changes:
        record_audit(
            session,
            principal,
            "token_settings.updated",
            ("organization", organization.id),
            changes=changes,
        )
    session.commit()
    return get_jwt_settings(session, principal)

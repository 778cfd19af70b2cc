"""`/api/token*` and `/api/jwt/settings`: personal access tokens (refresh JWTs)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import authorize
from labelops_common.http.routing import ApiRouter
from pydantic import BaseModel, ConfigDict

from project_svc.dependencies import DbSession, SecretKey
from project_svc.organizations import policies as organization_policies
from project_svc.organizations import service as organizations
from project_svc.tokens import service as tokens

router = ApiRouter(tags=["tokens"])


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    refresh: str


class JwtSettingsBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    api_tokens_enabled: bool | None = None
    legacy_api_tokens_enabled: bool | None = None
    api_token_ttl_days: int | None = None


@router.get("/api/token")
def list_tokens(session: DbSession, principal: CurrentUser) -> list[dict[str, Any]]:
    return [
        {
            "token": row.token_preview,
            "created_at": row.created_at.isoformat(),
            "expires_at": row.expires_at.isoformat(),
        }
        for row in tokens.list_personal_access_tokens(session, user_id=principal.user_id)
    ]


@router.post("/api/token", status_code=201)
def create_token(session: DbSession, principal: CurrentUser, secret: SecretKey) -> dict[str, Any]:
    issued = tokens.create_personal_access_token(session, principal=principal, secret=secret)
    session.commit()
    return {
        "token": issued.token,
        "created_at": issued.created_at.isoformat(),
        "expires_at": issued.expires_at.isoformat(),
    }


@router.post("/api/token/refresh")
def refresh_token(
    body: RefreshBody, request: Request, session: DbSession, secret: SecretKey
) -> dict[str, str]:
    """No caller authentication: the refresh token is the credential."""
    minutes = request.app.state.common_settings.access_token_minutes
    return {
        "access": tokens.issue_access_token(
            session, refresh=body.refresh, secret=secret, minutes=minutes
        )
    }


@router.post("/api/token/blacklist", status_code=204)
def blacklist_token(body: RefreshBody, session: DbSession, secret: SecretKey) -> Response:
    tokens.blacklist_refresh_token(session, refresh=body.refresh, secret=secret)
    session.commit()
    return Response(status_code=204)


@router.post("/api/token/rotate")
def rotate_token(
    body: RefreshBody, session: DbSession, principal: CurrentUser, secret: SecretKey
) -> dict[str, str]:
    issued = tokens.rotate_refresh_token(
        session, refresh=body.refresh, principal=principal, secret=secret
    )
    session.commit()
    return {"refresh": issued.token}


@router.get("/api/jwt/settings")
def get_jwt_settings(session: DbSession, principal: CurrentUser) -> dict[str, Any]:
    organization = organizations.get_organization(
        session, organization_id=principal.organization_id
    )
    return {
        "api_tokens_enabled": organization.api_tokens_enabled,
        "legacy_api_tokens_enabled": organization.legacy_api_tokens_enabled,
        "api_token_ttl_days": organization.api_token_ttl_days,
    }


@router.post("/api/jwt/settings")
def update_jwt_settings(
    body: JwtSettingsBody, session: DbSession, principal: CurrentUser
) -> dict[str, Any]:
    authorize(organization_policies.can_update_organization(principal, principal.organization_id))
    organization = organizations.get_organization(
        session, organization_id=principal.organization_id
    )
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(organization, name, value)
    session.commit()
    return get_jwt_settings(session, principal)

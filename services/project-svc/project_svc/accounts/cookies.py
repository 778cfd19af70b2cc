"""The browser's session cookie, set the same way at sign-in and after a password change."""

from __future__ import annotations

from fastapi import Request, Response
from labelops_common.auth.authenticate import SESSION_COOKIE
from labelops_common.auth.principal import Principal

from project_svc.tokens import service as tokens
from project_svc.users.models import User


def set_session_cookie(
    response: Response,
    request: Request,
    *,
    user: User,
    principal: Principal,
    secret: str,
    days: float,
) -> None:
    """`Secure` when the request came over HTTPS (behind the ingress, as its
    `X-Forwarded-Proto` says: uvicorn honours it from `FORWARDED_ALLOW_IPS`)."""
    response.set_cookie(
        SESSION_COOKIE,
        tokens.issue_session_token(user=user, principal=principal, secret=secret, days=days),
        max_age=int(days * 86_400),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )

"""The browser's session cookie, set the same way at sign-in and after a password change."""

from __future__ import annotations

from fastapi import Request, Response
from labelops_common.auth.authenticate import CSRF_COOKIE, SESSION_COOKIE, csrf_token_for
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
    days: int,
) -> None:
    """The session cookie and its CSRF token, set together (the token is bound to the
    session: a new session means a new token). `Secure` when the request came over HTTPS
    (behind the ingress, as its `X-Forwarded-Proto` says: uvicorn honours it from
    `FORWARDED_ALLOW_IPS`)."""
    session = tokens.issue_session_token(user=user, principal=principal, secret=secret, days=days)
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=days * 86_400,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    # Readable by the web app, which echoes it in X-CSRFToken on unsafe requests.
    response.set_cookie(
        CSRF_COOKIE,
        csrf_token_for(session, secret=secret),
        max_age=days * 86_400,
        samesite="lax",
        secure=secure,
    )

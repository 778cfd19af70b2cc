"""`/user/login`, `/user/signup`, `/user/logout`: the browser's way in.

A successful form or JSON login sets the session cookie (a signed JWT carrying the user's
token version, checked against the database on every request) and a `csrftoken` cookie
derived from it that unsafe requests must echo in `X-CSRFToken`. Before sign-in, the login
form is a plain double submit of a random `csrftoken`. The cookies are `Secure` when the request
came over HTTPS, also behind the ingress (uvicorn trusts `X-Forwarded-Proto` from
`FORWARDED_ALLOW_IPS`, which the chart sets).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from labelops_common.audit import record_audit, values_summary
from labelops_common.auth.authenticate import CSRF_COOKIE, SESSION_COOKIE
from labelops_common.auth.principal import Principal
from labelops_common.http.errors import (
    AuthenticationFailed,
    PermissionDenied,
    ValidationFailed,
    validation_errors_from_pydantic,
)
from labelops_common.http.routing import ApiRouter
from pydantic import BaseModel, ConfigDict, EmailStr, ValidationError

from project_svc.accounts import service as accounts
from project_svc.accounts import throttling
from project_svc.accounts.cookies import set_session_cookie
from project_svc.dependencies import DbSession, SecretKey, ServiceSettings
from project_svc.organizations import service as organizations
from project_svc.users import service as users
from project_svc.users.models import User
from project_svc.users.schemas import UserAnswer, user_response

router = ApiRouter(tags=["accounts"])


class Credentials(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: EmailStr
    password: str
    #: An invite token (also accepted as `?token=` on the sign-up URL, as the link has it).
    token: str | None = None


async def _read_credentials(request: Request) -> tuple[Credentials, bool]:
    """Credentials from a JSON body or a form; forms must carry the CSRF token."""
    is_json = request.headers.get("content-type", "").startswith("application/json")
    if is_json:
        try:
            raw: Any = await request.json()
        except ValueError:
            raise ValidationFailed({"non_field_errors": ["JSON parse error"]}) from None
    else:
        form = await request.form()
        raw = {key: value for key, value in form.items() if isinstance(value, str)}
        cookie = request.cookies.get(CSRF_COOKIE, "")
        submitted = str(raw.get("csrfmiddlewaretoken", "")) or request.headers.get(
            "x-csrftoken", ""
        )
        if not cookie or not hmac.compare_digest(cookie, submitted):
            raise PermissionDenied("CSRF Failed: CSRF token missing or incorrect.")
    try:
        return Credentials.model_validate(raw), is_json
    except ValidationError as exc:
        raise ValidationFailed(validation_errors_from_pydantic(exc.errors())) from None


def _signed_in(
    request: Request, user: User, principal: Principal, *, is_json: bool, secret: str, days: float
) -> Response:
    response: Response
    if is_json:
        response = JSONResponse(user_response(user).model_dump(mode="json"))
    else:
        target = request.query_params.get("next", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        response = RedirectResponse(target, status_code=302)
    set_session_cookie(response, request, user=user, principal=principal, secret=secret, days=days)
    return response


_LOGIN_PAGE = """<!doctype html><html><head><title>LabelOps sign in</title></head><body>
<form method="post" action="/user/login"><input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">
<label>Email <input name="email" type="email"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button></form></body></html>"""


@router.get("/user/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    """Hands out the CSRF cookie that a form login must echo (Label Studio's legacy SDK flow)."""
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_hex(16)
    response = HTMLResponse(_LOGIN_PAGE.format(csrf=csrf))
    response.set_cookie(CSRF_COOKIE, csrf, samesite="lax", secure=request.url.scheme == "https")
    return response


#: A sign-in or sign-up answers JSON to a JSON body and redirects a form; the documents say both.
SIGNED_IN_RESPONSES: dict[int | str, dict[str, Any]] = {
    302: {"description": "A form sign-in: redirect to `next`, with the session cookie set."}
}


@router.post("/user/login", response_model=UserAnswer, responses=SIGNED_IN_RESPONSES)
async def login(
    request: Request, session: DbSession, secret: SecretKey, settings: ServiceSettings
) -> Response:
    credentials, is_json = await _read_credentials(request)
    email = str(credentials.email)
    address = request.client.host if request.client else ""
    throttling.count_login_attempt(
        session,
        email=email,
        address=address,
        limits=throttling.LoginLimits(
            per_account=settings.login_failures_per_account,
            per_address=settings.login_failures_per_address,
            window=timedelta(seconds=settings.login_failure_window_seconds),
        ),
    )
    user = users.authenticate_password(session, email=email, password=credentials.password)
    principal = organizations.principal_for(session, user=user) if user else None
    if user is None or principal is None:
        raise AuthenticationFailed("Email or password is incorrect.")
    throttling.forget_successful_attempt(session, email=email, address=address)
    session.commit()
    days = organizations.session_days(
        session, organization_id=principal.organization_id, default_days=settings.session_days
    )
    return _signed_in(request, user, principal, is_json=is_json, secret=secret, days=days)


@router.get("/user/signup", response_class=RedirectResponse, status_code=302)
def signup_page(request: Request) -> Response:
    """An invite link (`/user/signup/?token=...`, Label Studio's form) opens the web app's
    sign-up page with the token."""
    token = request.query_params.get("token")
    target = "/sign-up" + (f"?{urlencode({'token': token})}" if token else "")
    return RedirectResponse(target, status_code=302)


@router.post(
    "/user/signup", status_code=201, response_model=UserAnswer, responses=SIGNED_IN_RESPONSES
)
async def signup(
    request: Request, session: DbSession, secret: SecretKey, settings: ServiceSettings
) -> Response:
    credentials, is_json = await _read_credentials(request)
    user = accounts.sign_up(
        session,
        email=str(credentials.email),
        password=credentials.password,
        allow_signup=settings.allow_signup,
        legacy_tokens=settings.legacy_api_tokens_enabled,
        invite_token=credentials.token or request.query_params.get("token") or None,
    )
    principal = organizations.principal_for(session, user=user)
    assert principal is not None, "a new user is an active member of an organization"
    invited = bool(credentials.token or request.query_params.get("token"))
    record_audit(
        session,
        principal,
        "user.joined" if invited else "user.signed_up",
        ("user", user.id),
        changes=values_summary(
            {"email": user.email, "role": principal.role.value, "invite": invited}
        ),
    )
    session.commit()
    days = organizations.session_days(
        session, organization_id=principal.organization_id, default_days=settings.session_days
    )
    response = _signed_in(request, user, principal, is_json=is_json, secret=secret, days=days)
    if is_json:
        response.status_code = 201
    return response


@router.post("/user/logout", response_class=RedirectResponse, status_code=302)
def logout() -> Response:
    """POST only: a GET (a link, an `<img>` on another site) must not sign anyone out."""
    response = RedirectResponse("/user/login", status_code=302)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response

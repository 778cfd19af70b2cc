"""Sessions and tokens are checked against the database on every request: a deleted user,
a changed password or role, or a user that never existed is refused; logout is POST only;
the session cookie is `Secure` behind a trusted proxy that says the request was HTTPS."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from labelops_common.auth.authenticate import SESSION_COOKIE
from labelops_common.auth.jwt_tokens import encode_token
from labelops_common.auth.principal import Role
from labelops_runtime.processes import ServeOptions, uvicorn_config
from project_svc.users.models import User

PASSWORD = "correct-horse-9"


@pytest.fixture()
def browser(runtime) -> Iterator[TestClient]:
    """A second client with its own cookie jar (the `client` fixture stays anonymous)."""
    with TestClient(runtime.http_app, raise_server_exceptions=False) as test_client:
        yield test_client


def _sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    response = client.post("/user/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.cookies[SESSION_COOKIE]


def _whoami(client: TestClient, *, cookie: str | None = None, bearer: str | None = None) -> int:
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    if cookie:
        client.cookies.set(SESSION_COOKIE, cookie)
    return client.get("/api/current-user/whoami", headers=headers).status_code


def _access_token(client: TestClient, headers: dict[str, str]) -> str:
    refresh = client.post("/api/token", headers=headers).json()["token"]
    return client.post("/api/token/refresh", json={"refresh": refresh}).json()["access"]


def test_a_deleted_users_cookie_and_tokens_are_refused(client, browser, cast, session) -> None:
    user = session.get(User, cast.annotator.principal.user_id)
    cookie = _sign_in(browser, user.email)
    refresh = client.post("/api/token", headers=cast.annotator.headers).json()["token"]
    access = client.post("/api/token/refresh", json={"refresh": refresh}).json()["access"]
    assert _whoami(client, cookie=cookie) == 200
    assert _whoami(client, bearer=access) == 200

    client.cookies.clear()
    deleted = client.delete(f"/api/users/{user.id}", headers=cast.owner.headers)
    assert deleted.status_code == 204

    assert _whoami(client, cookie=cookie) == 401
    assert _whoami(client, bearer=access) == 401
    client.cookies.clear()
    assert client.post("/api/token/refresh", json={"refresh": refresh}).status_code == 401
    assert client.get("/api/projects", headers=cast.annotator.headers).status_code == 401


def test_a_correctly_signed_token_for_a_user_that_does_not_exist_is_refused(
    client, cast, secret_key
) -> None:
    for token_type in ("access", "session"):
        forged, _ = encode_token(
            secret=secret_key,
            token_type=token_type,  # type: ignore[arg-type]
            user_id=987_654_321,
            organization_id=cast.owner.principal.organization_id,
            role=Role.OWNER,
            lifetime_seconds=600,
        )
        if token_type == "access":
            assert _whoami(client, bearer=forged) == 401
        else:
            assert _whoami(client, cookie=forged) == 401


def test_the_role_is_the_databases_not_the_tokens(client, cast, secret_key) -> None:
    """A token claiming `owner` for an annotator acts as an annotator."""
    annotator = cast.annotator.principal
    claims_owner, _ = encode_token(
        secret=secret_key,
        token_type="access",
        user_id=annotator.user_id,
        organization_id=annotator.organization_id,
        role=Role.OWNER,
        lifetime_seconds=600,
    )
    bearer = {"Authorization": f"Bearer {claims_owner}"}
    assert client.get("/api/current-user/whoami", headers=bearer).status_code == 200
    assert client.get("/api/users", headers=bearer).status_code == 403


def test_a_password_change_revokes_the_old_cookie_and_renews_the_changers(
    client, browser, cast, session
) -> None:
    user = session.get(User, cast.annotator.principal.user_id)
    elsewhere = _sign_in(client, user.email)
    old = _sign_in(browser, user.email)
    csrf = browser.cookies.get("csrftoken")
    changed = browser.patch(
        f"/api/users/{user.id}",
        json={"password": "another-horse-10", "current_password": PASSWORD},
        headers={"X-CSRFToken": csrf},
    )
    assert changed.status_code == 200, changed.text
    renewed = changed.cookies[SESSION_COOKIE]
    assert renewed != old
    assert _whoami(client, cookie=old) == 401
    assert _whoami(client, cookie=elsewhere) == 401
    assert _whoami(client, cookie=renewed) == 200


def test_an_administrator_changing_a_password_or_role_revokes_the_users_sessions(
    client, browser, cast, session
) -> None:
    user = session.get(User, cast.annotator.principal.user_id)
    cookie = _sign_in(browser, user.email)
    access = _access_token(client, cast.annotator.headers)
    client.cookies.clear()
    promoted = client.patch(
        f"/api/users/{user.id}", json={"role": "reviewer"}, headers=cast.owner.headers
    )
    assert promoted.status_code == 200
    assert "set-cookie" not in promoted.headers  # nothing for the administrator
    assert _whoami(client, cookie=cookie) == 401
    assert _whoami(client, bearer=access) == 401

    cookie = _sign_in(browser, user.email)
    client.cookies.clear()
    reset = client.patch(
        f"/api/users/{user.id}", json={"password": "another-horse-10"}, headers=cast.owner.headers
    )
    assert reset.status_code == 200
    assert _whoami(client, cookie=cookie) == 401


def test_logout_is_post_only(browser, cast, session) -> None:
    user = session.get(User, cast.owner.principal.user_id)
    _sign_in(browser, user.email)
    assert browser.get("/user/logout", follow_redirects=False).status_code == 405
    assert browser.get("/api/current-user/whoami").status_code == 200
    out = browser.post("/user/logout", follow_redirects=False)
    assert out.status_code == 302
    assert browser.get("/api/current-user/whoami").status_code == 401


def _login_through_uvicorn(runtime, email: str, *, peer: str) -> httpx.Response:
    """A sign-in as uvicorn serves it (`labelops serve`), from `peer`, saying it was HTTPS."""
    config = uvicorn_config(
        runtime.http_app,
        ServeOptions(target="project-svc", embedded_worker=False, host="127.0.0.1", port=0),
    )
    config.load()

    async def login() -> httpx.Response:
        transport = httpx.ASGITransport(app=config.loaded_app, client=(peer, 40_000))
        async with httpx.AsyncClient(transport=transport, base_url="http://project-svc") as http:
            return await http.post(
                "/user/login",
                json={"email": email, "password": PASSWORD},
                headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
            )

    return asyncio.run(login())


def test_the_session_cookie_is_secure_behind_a_trusted_proxy(
    runtime, client, cast, session, monkeypatch
) -> None:
    """The chart sets FORWARDED_ALLOW_IPS, which uvicorn reads: the ingress's
    `X-Forwarded-Proto: https` makes the cookie `Secure`; anyone else's is ignored."""
    email = session.get(User, cast.owner.principal.user_id).email
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.1")
    trusted = _login_through_uvicorn(runtime, email, peer="10.0.0.1")
    assert trusted.status_code == 200, trusted.text
    cookie = next(c for c in trusted.headers.get_list("set-cookie") if SESSION_COOKIE in c)
    assert "secure" in cookie.lower()
    untrusted = _login_through_uvicorn(runtime, email, peer="10.0.0.2")
    cookie = next(c for c in untrusted.headers.get_list("set-cookie") if SESSION_COOKIE in c)
    assert "secure" not in cookie.lower()


def test_logout_everywhere_revokes_every_session_and_access_token(
    client, browser, cast, session
) -> None:
    user = session.get(User, cast.annotator.principal.user_id)
    elsewhere = _sign_in(client, user.email)
    access = _access_token(client, cast.annotator.headers)
    _sign_in(browser, user.email)
    csrf = browser.cookies.get("csrftoken")
    assert browser.post("/api/current-user/logout-everywhere").status_code == 403  # no CSRF
    out = browser.post("/api/current-user/logout-everywhere", headers={"X-CSRFToken": csrf})
    assert out.status_code == 204
    assert browser.get("/api/current-user/whoami").status_code == 401
    assert _whoami(client, cookie=elsewhere) == 401
    assert _whoami(client, bearer=access) == 401
    client.cookies.clear()
    # The legacy key is not a session: it still works.
    assert client.get("/api/current-user/whoami", headers=cast.annotator.headers).status_code == 200
    refresh_after = client.post("/api/token", headers=cast.annotator.headers).json()["token"]
    assert client.post("/api/token/refresh", json={"refresh": refresh_after}).status_code == 200

"""Authentication in all of Label Studio's forms, tokens, sessions, users and organizations."""

from __future__ import annotations

import time

import jwt
import pytest
from fastapi.testclient import TestClient
from labelops_common.auth.principal import Role
from project_svc.organizations.models import Membership, Organization
from project_svc.settings import Settings
from project_svc.tokens.models import LegacyToken, RefreshToken
from project_svc.users.models import User
from sqlalchemy import select


class TestLegacyTokens:
    def test_token_and_x_api_key_headers(self, client, cast) -> None:
        whoami = client.get("/api/current-user/whoami", headers=cast.owner.headers).json()
        assert whoami["id"] == cast.owner.principal.user_id
        assert whoami["username"] and whoami["active_organization"]
        assert whoami["role"] == "owner"
        via_alias = client.get("/api/current-user/whoami", headers={"X-Api-Key": cast.owner.token})
        assert via_alias.status_code == 200

    def test_reveal_and_reset(self, client, cast, session) -> None:
        shown = client.get("/api/current-user/token", headers=cast.owner.headers).json()["token"]
        assert shown == cast.owner.token
        row = session.get(LegacyToken, cast.owner.principal.user_id)
        assert cast.owner.token not in (row.key_digest, row.key_ciphertext)  # never stored plain
        reset = client.post("/api/current-user/reset-token/", headers=cast.owner.headers)
        assert reset.status_code == 201
        new = reset.json()["token"]
        assert len(new) == 40 and new != cast.owner.token
        assert client.get("/api/current-user/whoami", headers=cast.owner.headers).status_code == 401
        assert (
            client.get(
                "/api/current-user/whoami", headers={"Authorization": f"Token {new}"}
            ).status_code
            == 200
        )

    def test_disabled_legacy_tokens_are_refused(self, client, cast) -> None:
        response = client.post(
            "/api/jwt/settings",
            json={"legacy_api_tokens_enabled": False},
            headers=cast.owner.headers,
        )
        assert response.json()["legacy_api_tokens_enabled"] is False
        assert client.get("/api/projects", headers=cast.owner.headers).status_code == 401

    def test_bad_header_forms(self, client) -> None:
        for header in ("Basic abc", "Token", "Bearer not-a-jwt"):
            response = client.get("/api/projects", headers={"Authorization": header})
            assert response.status_code == 401, header
            assert response.json()["status_code"] == 401


class TestPersonalAccessTokens:
    def test_refresh_access_bearer_blacklist(self, client, cast, session) -> None:
        created = client.post("/api/token/", headers=cast.owner.headers)
        assert created.status_code == 201
        refresh = created.json()["token"]
        claims = jwt.decode(refresh, options={"verify_signature": False})
        assert claims["token_type"] == "refresh" and "exp" in claims
        assert session.get(RefreshToken, claims["jti"]) is not None
        listed = client.get("/api/token", headers=cast.owner.headers).json()
        assert listed[0]["token"] == refresh.rsplit(".", 1)[0]  # no signature shown

        access = client.post("/api/token/refresh", json={"refresh": refresh}).json()["access"]
        access_claims = jwt.decode(access, options={"verify_signature": False})
        assert access_claims["token_type"] == "access"
        assert access_claims["exp"] - access_claims["iat"] == 300
        bearer = {"Authorization": f"Bearer {access}"}
        assert (
            client.get("/api/current-user/whoami", headers=bearer).json()["id"]
            == cast.owner.principal.user_id
        )

        # A refresh token is not an access token.
        assert (
            client.get("/api/projects", headers={"Authorization": f"Bearer {refresh}"}).status_code
            == 401
        )
        assert client.post("/api/token/blacklist", json={"refresh": refresh}).status_code == 204
        assert client.post("/api/token/refresh", json={"refresh": refresh}).status_code == 401
        assert client.post("/api/token/blacklist", json={"refresh": refresh}).status_code == 404

    def test_rotate(self, client, cast) -> None:
        refresh = client.post("/api/token", headers=cast.owner.headers).json()["token"]
        rotated = client.post(
            "/api/token/rotate", json={"refresh": refresh}, headers=cast.owner.headers
        )
        assert rotated.status_code == 200
        assert client.post("/api/token/refresh", json={"refresh": refresh}).status_code == 401
        new = rotated.json()["refresh"]
        assert client.post("/api/token/refresh", json={"refresh": new}).status_code == 200

    def test_forged_and_expired_tokens_are_refused(self, client, cast, secret_key) -> None:
        forged = jwt.encode(
            {
                "token_type": "access",
                "user_id": cast.owner.principal.user_id,
                "jti": "x",
                "iat": int(time.time()),
                "exp": int(time.time()) + 60,
                "org": 1,
                "role": "owner",
            },
            "another-secret-key-of-enough-length-000000",
            algorithm="HS256",
        )
        assert (
            client.get("/api/projects", headers={"Authorization": f"Bearer {forged}"}).status_code
            == 401
        )
        expired = jwt.encode(
            {
                "token_type": "access",
                "user_id": cast.owner.principal.user_id,
                "jti": "x",
                "iat": 1,
                "exp": 2,
                "org": cast.owner.principal.organization_id,
                "role": "owner",
            },
            secret_key,
            algorithm="HS256",
        )
        assert (
            client.get("/api/projects", headers={"Authorization": f"Bearer {expired}"}).status_code
            == 401
        )


class TestSessions:
    def test_form_login_with_csrf_then_cookie_auth(self, runtime, cast, session) -> None:
        with TestClient(runtime.http_app, raise_server_exceptions=False) as browser:
            page = browser.get("/user/login")
            csrf = page.cookies["csrftoken"]
            email = session.get(User, cast.owner.principal.user_id).email
            refused = browser.post(
                "/user/login", data={"email": email, "password": "correct-horse-9"}
            )
            assert refused.status_code == 403  # no CSRF field
            logged_in = browser.post(
                "/user/login",
                data={"email": email, "password": "correct-horse-9", "csrfmiddlewaretoken": csrf},
                follow_redirects=False,
            )
            assert logged_in.status_code == 302
            assert browser.get("/api/current-user/token").json()["token"] == cast.owner.token
            # Unsafe methods with a session cookie need the session's own CSRF token: the
            # login page's random one (or any other) no longer counts.
            session_csrf = browser.cookies["csrftoken"]
            assert session_csrf != csrf
            assert browser.post("/api/projects", json={"title": "From browser"}).status_code == 403
            for wrong in (csrf, "0" * 64):  # what a tossed cookie would make a page echo
                tossed = browser.post(
                    "/api/projects", json={"title": "Forged"}, headers={"X-CSRFToken": wrong}
                )
                assert tossed.status_code == 403
            created = browser.post(
                "/api/projects",
                json={"title": "From browser"},
                headers={"X-CSRFToken": session_csrf},
            )
            assert created.status_code == 201
            # A new session has a new token; the old one is refused with it.
            again = browser.post(
                "/user/login",
                json={"email": email, "password": "correct-horse-9"},
            )
            assert again.status_code == 200
            assert browser.cookies["csrftoken"] != session_csrf
            stale = browser.post(
                "/api/projects", json={"title": "Stale"}, headers={"X-CSRFToken": session_csrf}
            )
            assert stale.status_code == 403

    def test_wrong_password(self, client, cast, session) -> None:
        email = session.get(User, cast.owner.principal.user_id).email
        response = client.post("/user/login", json={"email": email, "password": "wrong-password"})
        assert response.status_code == 401
        assert "set-cookie" not in response.headers

    def test_first_signup_on_an_empty_install_founds_it_as_owner(self, client, session) -> None:
        assert session.scalars(select(Organization)).first() is None
        response = client.post(
            "/user/signup", json={"email": "first@example.com", "password": "long-enough-1"}
        )
        assert response.status_code == 201, response.text
        assert response.cookies.get("labelops_session")
        user = session.scalars(select(User).where(User.email == "first@example.com")).one()
        organization = session.scalars(select(Organization)).one()
        assert organization.created_by_id == user.id
        membership = session.scalars(select(Membership).where(Membership.user_id == user.id)).one()
        assert (membership.organization_id, membership.role) == (organization.id, "owner")

    def test_later_signups_are_refused_by_default(self, client, cast, session) -> None:
        users_before = session.scalars(select(User.id)).all()
        existing = session.get(User, cast.owner.principal.user_id).email
        answers = [
            client.post("/user/signup", json={"email": email, "password": "long-enough-1"})
            for email in ("new@example.com", existing)
        ]
        for answer in answers:
            assert answer.status_code == 403
            assert answer.json()["detail"] == (
                "Sign-up is closed on this install; ask an administrator."
            )
            assert "validation_errors" not in answer.json()
            assert "set-cookie" not in answer.headers
        # New or taken, the email gets the same answer, and nothing is created.
        assert {**answers[0].json(), "id": ""} == {**answers[1].json(), "id": ""}
        assert session.scalars(select(User.id)).all() == users_before

    def test_signup_is_closed_unless_the_setting_opens_it(self, monkeypatch) -> None:
        monkeypatch.delenv("LABELOPS_PROJECT_SVC_ALLOW_SIGNUP", raising=False)
        assert Settings().allow_signup is False
        monkeypatch.setenv("LABELOPS_PROJECT_SVC_ALLOW_SIGNUP", "true")
        assert Settings().allow_signup is True

    @pytest.mark.usefixtures("open_signup")
    def test_signup_joins_the_install_as_annotator(self, client, cast, session) -> None:
        response = client.post(
            "/user/signup", json={"email": "new@example.com", "password": "long-enough-1"}
        )
        assert response.status_code == 201, response.text
        user = session.scalars(select(User).where(User.email == "new@example.com")).one()
        membership = session.scalars(select(Membership).where(Membership.user_id == user.id)).one()
        assert membership.role == Role.ANNOTATOR.value
        short = client.post("/user/signup", json={"email": "b@example.com", "password": "short"})
        assert short.status_code == 400 and "password" in short.json()["validation_errors"]
        duplicate = client.post(
            "/user/signup", json={"email": "NEW@example.com", "password": "long-enough-1"}
        )
        assert duplicate.status_code == 400 and "email" in duplicate.json()["validation_errors"]


class TestUsers:
    def test_matrix(self, client, cast, session) -> None:
        assert client.get("/api/users", headers=cast.annotator.headers).status_code == 403
        listed = client.get("/api/users", headers=cast.owner.headers).json()
        assert {u["id"] for u in listed} == {
            cast.owner.principal.user_id,
            cast.annotator.principal.user_id,
        }

        outsider_id = cast.outsider.principal.user_id
        assert (
            client.get(f"/api/users/{outsider_id}", headers=cast.owner.headers).status_code == 404
        )

        forbidden = client.post(
            "/api/users", json={"email": "x@example.com"}, headers=cast.annotator.headers
        )
        assert forbidden.status_code == 403
        assert session.scalars(select(User).where(User.email == "x@example.com")).first() is None

        created = client.post(
            "/api/users",
            json={"email": "x@example.com", "password": "long-enough-1", "role": "manager"},
            headers=cast.owner.headers,
        )
        assert created.status_code == 201
        new_id = created.json()["id"]
        membership = session.scalars(select(Membership).where(Membership.user_id == new_id)).one()
        assert membership.role == "manager"

        bad = client.post("/api/users", json={"email": "not-an-email"}, headers=cast.owner.headers)
        assert bad.status_code == 400 and "email" in bad.json()["validation_errors"]

        assert (
            client.patch(
                f"/api/users/{new_id}", json={"first_name": "Eve"}, headers=cast.annotator.headers
            ).status_code
            == 403
        )
        assert (
            client.patch(
                f"/api/users/{new_id}", json={"first_name": "Ann"}, headers=cast.owner.headers
            ).json()["first_name"]
            == "Ann"
        )

        assert client.delete(f"/api/users/{new_id}", headers=cast.owner.headers).status_code == 204
        session.expire_all()
        assert (
            session.scalars(select(Membership).where(Membership.user_id == new_id)).one().is_active
            is False
        )


class TestOrganizations:
    def test_scope_and_memberships(self, client, cast) -> None:
        org_id = cast.owner.principal.organization_id
        assert [
            o["id"] for o in client.get("/api/organizations", headers=cast.owner.headers).json()
        ] == [org_id]
        assert (
            client.get(f"/api/organizations/{org_id}", headers=cast.outsider.headers).status_code
            == 404
        )
        members = client.get(
            f"/api/organizations/{org_id}/memberships", headers=cast.annotator.headers
        ).json()
        assert members["count"] == 2 and {"count", "next", "previous", "results"} <= set(members)
        patched = client.patch(
            f"/api/organizations/{org_id}",
            json={"title": "Renamed"},
            headers=cast.annotator.headers,
        )
        assert patched.status_code == 403
        assert (
            client.patch(
                f"/api/organizations/{org_id}",
                json={"title": "Renamed"},
                headers=cast.owner.headers,
            ).json()["title"]
            == "Renamed"
        )

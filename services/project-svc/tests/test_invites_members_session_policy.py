"""`/api/invite`, signing up with an invite, `/api/organizations/{id}/memberships/{user}`
(get, change role) and `/api/session-policy/`."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from labelops_common.auth.authenticate import SESSION_COOKIE
from labelops_common.auth.principal import Role
from project_svc.organizations.models import Membership, Organization, SessionPolicy
from project_svc.users.models import User
from sqlalchemy import select
from sqlalchemy.orm import Session

from .conftest import Actor, Cast, Factory

PASSWORD = "long-enough-pass-1"


def _org(actor: Actor) -> int:
    return actor.principal.organization_id


# ---------------------------------------------------------------------------- invites


def test_the_invite_link_lets_a_stranger_join_that_organization_when_signup_is_closed(
    client, cast: Cast, session: Session
) -> None:
    invite = client.get("/api/invite", headers=cast.owner.headers)
    assert invite.status_code == 200, invite.text
    token = invite.json()["token"]
    assert parse_qs(urlsplit(invite.json()["invite_url"]).query) == {"token": [token]}
    assert client.get("/api/invite", headers=cast.owner.headers).json()["token"] == token

    closed = client.post("/user/signup", json={"email": "no@example.com", "password": PASSWORD})
    assert closed.status_code == 403
    joined = client.post(
        f"/user/signup/?token={token}", json={"email": "new@example.com", "password": PASSWORD}
    )
    assert joined.status_code == 201, joined.text
    user = session.scalars(select(User).where(User.email == "new@example.com")).one()
    membership = session.scalars(select(Membership).where(Membership.user_id == user.id)).one()
    assert (membership.organization_id, membership.role) == (_org(cast.owner), "annotator")
    whoami = client.get("/api/current-user/whoami", cookies=joined.cookies)
    assert whoami.json()["active_organization"] == _org(cast.owner)


def test_a_reset_invite_token_stops_the_old_link(client, cast: Cast, session: Session) -> None:
    old = client.get("/api/invite", headers=cast.owner.headers).json()["token"]
    reset = client.post("/api/invite/reset-token", headers=cast.owner.headers)
    assert reset.status_code == 200, reset.text
    new = reset.json()["token"]
    assert new != old
    refused = client.post(
        "/user/signup", json={"email": "late@example.com", "password": PASSWORD, "token": old}
    )
    assert refused.status_code == 400
    assert "token" in refused.json()["validation_errors"]
    assert session.scalars(select(User).where(User.email == "late@example.com")).first() is None
    organization = session.get(Organization, _org(cast.owner))
    assert organization is not None and organization.invite_token == new


def test_invites_are_for_managers_and_resets_for_administrators(client, cast: Cast) -> None:
    assert client.get("/api/invite", headers=cast.annotator.headers).status_code == 403
    assert client.post("/api/invite/reset-token", headers=cast.annotator.headers).status_code == 403
    assert client.get("/api/invite").status_code == 401
    mine = client.get("/api/invite", headers=cast.owner.headers).json()["token"]
    theirs = client.get("/api/invite", headers=cast.outsider.headers).json()["token"]
    assert mine != theirs


# ---------------------------------------------------------------------------- members


def test_a_member_can_be_read(client, cast: Cast) -> None:
    org = _org(cast.owner)
    user = cast.annotator.principal.user_id
    answer = client.get(f"/api/organizations/{org}/memberships/{user}/", headers=cast.owner.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["user"], body["organization"], body["role"]) == (user, org, "annotator")
    assert body["created_projects"] == []
    own = client.get(f"/api/organizations/{org}/memberships/{user}", headers=cast.annotator.headers)
    assert own.status_code == 200
    outsider = client.get(
        f"/api/organizations/{org}/memberships/{user}", headers=cast.outsider.headers
    )
    assert outsider.status_code == 404
    peer = cast.owner.principal.user_id
    nosy = client.get(
        f"/api/organizations/{org}/memberships/{peer}", headers=cast.annotator.headers
    )
    assert nosy.status_code == 403


@pytest.fixture()
def ranks(factory: Factory) -> dict[str, Actor]:
    org = factory.organization("Ranks")
    return {role.value: factory.actor(org, role) for role in Role} | {
        "second_admin": factory.actor(org, Role.ADMINISTRATOR)
    }


def _change(client, actor: Actor, target: Actor, role: str):  # type: ignore[no-untyped-def]
    return client.patch(
        f"/api/organizations/{_org(target)}/memberships/{target.principal.user_id}/",
        json={"role": role},
        headers=actor.headers,
    )


def _role(session: Session, actor: Actor) -> str:
    session.expire_all()
    return session.scalars(
        select(Membership.role).where(Membership.user_id == actor.principal.user_id)
    ).one()


def test_an_administrator_promotes_a_member_below_and_their_tokens_stop(
    client, ranks: dict[str, Actor], session: Session
) -> None:
    answer = _change(client, ranks["administrator"], ranks["annotator"], "manager")
    assert answer.status_code == 200, answer.text
    assert answer.json()["role"] == "manager"
    assert answer.json()["user"]["id"] == ranks["annotator"].principal.user_id
    assert _role(session, ranks["annotator"]) == "manager"
    version = session.get(User, ranks["annotator"].principal.user_id)
    assert version is not None and version.token_version == 1


@pytest.mark.parametrize(
    ("actor", "target", "role"),
    [
        ("administrator", "second_admin", "manager"),  # a peer
        ("administrator", "owner", "annotator"),  # a superior
        ("administrator", "manager", "owner"),  # above the caller's own role
        ("manager", "annotator", "reviewer"),  # not an administrator
        ("administrator", "administrator", "manager"),  # oneself
    ],
)
def test_role_changes_follow_the_rank_rules(
    client, ranks: dict[str, Actor], session: Session, actor: str, target: str, role: str
) -> None:
    before = _role(session, ranks[target])
    answer = _change(client, ranks[actor], ranks[target], role)
    assert answer.status_code == 403, answer.text
    assert _role(session, ranks[target]) == before


def test_a_bad_role_is_a_400_naming_the_field(client, ranks: dict[str, Actor]) -> None:
    answer = _change(client, ranks["owner"], ranks["annotator"], "emperor")
    assert answer.status_code == 400
    assert "role" in answer.json()["validation_errors"]


def test_another_organizations_member_is_not_found(
    client, ranks: dict[str, Actor], cast: Cast
) -> None:
    answer = _change(client, cast.outsider, ranks["annotator"], "manager")
    assert answer.status_code == 404


# ---------------------------------------------------------------------------- session policy


def test_the_session_policy_defaults_then_changes_and_shortens_new_sessions(
    client, cast: Cast, session: Session, factory: Factory
) -> None:
    first = client.get("/api/session-policy/", headers=cast.owner.headers)
    assert first.status_code == 200, first.text
    assert first.json()["max_session_age"] == 14 * 1440
    changed = client.patch(
        "/api/session-policy/", json={"max_session_age": 60}, headers=cast.owner.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["max_session_age"] == 60
    assert changed.json()["max_time_between_activity"] == 14 * 1440
    policy = session.get(SessionPolicy, _org(cast.owner))
    assert policy is not None and policy.max_session_age == 60

    member = factory.actor(_org(cast.owner), Role.ANNOTATOR, password=PASSWORD)
    user = session.get(User, member.principal.user_id)
    assert user is not None
    login = client.post("/user/login", json={"email": user.email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    claims = jwt.decode(login.cookies[SESSION_COOKIE], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize("body", [{"max_session_age": 0}, {"max_session_age": "soon"}])
def test_a_bad_session_policy_is_refused(client, cast: Cast, session: Session, body) -> None:  # type: ignore[no-untyped-def]
    answer = client.patch("/api/session-policy/", json=body, headers=cast.owner.headers)
    assert answer.status_code == 400
    assert "max_session_age" in answer.json()["validation_errors"]
    assert session.get(SessionPolicy, _org(cast.owner)) is None


def test_the_session_policy_is_for_administrators(client, cast: Cast) -> None:
    assert client.get("/api/session-policy/", headers=cast.annotator.headers).status_code == 403
    refused = client.patch(
        "/api/session-policy/", json={"max_session_age": 5}, headers=cast.annotator.headers
    )
    assert refused.status_code == 403
    assert client.get("/api/session-policy/").status_code == 401


def test_the_invite_link_opens_the_web_apps_sign_up_page(client) -> None:
    answer = client.get("/user/signup/?token=abc%20d", follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == "/sign-up?token=abc+d"
    plain = client.get("/user/signup", follow_redirects=False)
    assert plain.headers["location"] == "/sign-up"

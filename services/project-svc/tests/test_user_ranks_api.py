"""Rank checks on `/api/users` and memberships, and the current password for one's own
password or email: nobody acts on a user of their rank or above but themselves."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from labelops_common.auth.principal import Role
from project_svc.organizations.models import Membership
from project_svc.users.models import User
from project_svc.users.passwords import verify_password
from sqlalchemy import select
from sqlalchemy.orm import Session

from .conftest import Actor, Factory

PASSWORD = "correct-horse-9"


@dataclass
class Ranks:
    """One organization with a user of every role, and a second administrator."""

    owner: Actor
    administrator: Actor
    other_administrator: Actor
    manager: Actor
    reviewer: Actor
    annotator: Actor


@pytest.fixture()
def ranks(factory: Factory) -> Ranks:
    org = factory.organization("Ranks")
    return Ranks(
        owner=factory.actor(org, Role.OWNER),
        administrator=factory.actor(org, Role.ADMINISTRATOR),
        other_administrator=factory.actor(org, Role.ADMINISTRATOR),
        manager=factory.actor(org, Role.MANAGER),
        reviewer=factory.actor(org, Role.REVIEWER),
        annotator=factory.actor(org, Role.ANNOTATOR),
    )


def _user(session: Session, actor: Actor) -> User:
    session.expire_all()
    user = session.get(User, actor.principal.user_id)
    assert user is not None
    return user


def _membership(session: Session, actor: Actor) -> Membership:
    session.expire_all()
    return session.scalars(
        select(Membership).where(Membership.user_id == actor.principal.user_id)
    ).one()


def _errors(response) -> dict[str, list[str]]:
    body = response.json()
    assert {"status_code", "detail", "validation_errors"} <= set(body)
    return body["validation_errors"]


class TestRanks:
    def test_administrator_cannot_take_over_the_owner(self, client, ranks, session) -> None:
        owner_id = ranks.owner.principal.user_id
        before = _user(session, ranks.owner)
        hash_before, email_before = before.password_hash, before.email

        for body in (
            {"password": "taken-over-123"},
            {"email": "attacker@example.com"},
            {"first_name": "Mallory"},
        ):
            response = client.patch(
                f"/api/users/{owner_id}", json=body, headers=ranks.administrator.headers
            )
            assert response.status_code == 403, body
        assert (
            client.delete(f"/api/users/{owner_id}", headers=ranks.administrator.headers).status_code
            == 403
        )
        org_id = ranks.owner.principal.organization_id
        assert (
            client.delete(
                f"/api/organizations/{org_id}/memberships/{owner_id}",
                headers=ranks.administrator.headers,
            ).status_code
            == 403
        )

        owner = _user(session, ranks.owner)
        assert owner.password_hash == hash_before
        assert verify_password(PASSWORD, owner.password_hash)
        assert owner.email == email_before and owner.first_name == ""
        assert _membership(session, ranks.owner).is_active is True
        assert _membership(session, ranks.owner).role == Role.OWNER.value

    def test_equal_rank_is_refused(self, client, ranks, session) -> None:
        target = ranks.other_administrator
        hash_before = _user(session, target).password_hash
        response = client.patch(
            f"/api/users/{target.principal.user_id}",
            json={"password": "taken-over-123", "last_name": "Changed"},
            headers=ranks.administrator.headers,
        )
        assert response.status_code == 403
        assert (
            client.delete(
                f"/api/users/{target.principal.user_id}", headers=ranks.administrator.headers
            ).status_code
            == 403
        )
        user = _user(session, target)
        assert user.password_hash == hash_before and user.last_name == ""
        assert _membership(session, target).is_active is True

    def test_manager_cannot_change_an_administrator(self, client, ranks, session) -> None:
        target_id = ranks.administrator.principal.user_id
        hash_before = _user(session, ranks.administrator).password_hash
        for body in ({"password": "taken-over-123"}, {"role": "annotator"}, {"phone": "1"}):
            response = client.patch(
                f"/api/users/{target_id}", json=body, headers=ranks.manager.headers
            )
            assert response.status_code == 403, body
        assert (
            client.delete(f"/api/users/{target_id}", headers=ranks.manager.headers).status_code
            == 403
        )
        user = _user(session, ranks.administrator)
        assert user.password_hash == hash_before and user.phone == ""
        membership = _membership(session, ranks.administrator)
        assert membership.role == Role.ADMINISTRATOR.value and membership.is_active is True

    def test_a_higher_rank_may_act(self, client, ranks, session) -> None:
        target_id = ranks.manager.principal.user_id
        response = client.patch(
            f"/api/users/{target_id}",
            json={"password": "reset-by-admin-1", "first_name": "Mona"},
            headers=ranks.administrator.headers,
        )
        assert response.status_code == 200, response.text
        user = _user(session, ranks.manager)
        assert verify_password("reset-by-admin-1", user.password_hash)
        assert user.first_name == "Mona"

        org_id = ranks.owner.principal.organization_id
        reviewer_id = ranks.reviewer.principal.user_id
        assert (
            client.delete(
                f"/api/organizations/{org_id}/memberships/{reviewer_id}",
                headers=ranks.administrator.headers,
            ).status_code
            == 204
        )
        assert _membership(session, ranks.reviewer).is_active is False

        other_id = ranks.other_administrator.principal.user_id
        assert (
            client.delete(f"/api/users/{other_id}", headers=ranks.owner.headers).status_code == 204
        )
        assert _membership(session, ranks.other_administrator).is_active is False


class TestRoles:
    def test_nobody_sets_a_role_above_their_own(self, client, ranks, session) -> None:
        me = ranks.annotator.principal.user_id
        response = client.patch(
            f"/api/users/{me}", json={"role": "manager"}, headers=ranks.annotator.headers
        )
        assert response.status_code == 403
        assert _membership(session, ranks.annotator).role == Role.ANNOTATOR.value

        response = client.patch(
            f"/api/users/{me}", json={"role": "owner"}, headers=ranks.administrator.headers
        )
        assert response.status_code == 403
        assert _membership(session, ranks.annotator).role == Role.ANNOTATOR.value

        created = client.post(
            "/api/users",
            json={"email": "boss@example.com", "role": "owner"},
            headers=ranks.administrator.headers,
        )
        assert created.status_code == 403
        assert session.scalars(select(User).where(User.email == "boss@example.com")).first() is None

    def test_role_changes_within_rank(self, client, ranks, session) -> None:
        target_id = ranks.annotator.principal.user_id
        response = client.patch(
            f"/api/users/{target_id}", json={"role": "reviewer"}, headers=ranks.manager.headers
        )
        assert response.status_code == 403  # managers do not administer users
        response = client.patch(
            f"/api/users/{target_id}",
            json={"role": "administrator"},
            headers=ranks.administrator.headers,
        )
        assert response.status_code == 200, response.text
        assert _membership(session, ranks.annotator).role == Role.ADMINISTRATOR.value

        bad = client.patch(
            f"/api/users/{target_id}", json={"role": "chief"}, headers=ranks.owner.headers
        )
        assert bad.status_code == 400 and "role" in _errors(bad)

    def test_the_organization_keeps_an_owner(self, client, ranks, session) -> None:
        owner_id = ranks.owner.principal.user_id
        demoted = client.patch(
            f"/api/users/{owner_id}", json={"role": "administrator"}, headers=ranks.owner.headers
        )
        assert demoted.status_code == 400 and "role" in _errors(demoted)
        assert _membership(session, ranks.owner).role == Role.OWNER.value

        other_id = ranks.administrator.principal.user_id
        promoted = client.patch(
            f"/api/users/{other_id}", json={"role": "owner"}, headers=ranks.owner.headers
        )
        assert promoted.status_code == 200, promoted.text
        demoted = client.patch(
            f"/api/users/{owner_id}", json={"role": "administrator"}, headers=ranks.owner.headers
        )
        assert demoted.status_code == 200, demoted.text
        assert _membership(session, ranks.owner).role == Role.ADMINISTRATOR.value
        assert _membership(session, ranks.administrator).role == Role.OWNER.value


class TestCurrentPassword:
    @pytest.mark.parametrize(
        "changes",
        [{"password": "brand-new-pass-1"}, {"email": "renamed@example.com"}],
        ids=["password", "email"],
    )
    def test_own_change_needs_the_current_password(self, client, ranks, session, changes) -> None:
        me = ranks.reviewer
        url = f"/api/users/{me.principal.user_id}"
        before = _user(session, me)
        hash_before, email_before = before.password_hash, before.email

        for current, reason in ((None, "required"), ("wrong-password-0", "incorrect")):
            body = dict(changes) if current is None else {**changes, "current_password": current}
            response = client.patch(url, json=body, headers=me.headers)
            assert response.status_code == 400, response.text
            errors = _errors(response)
            assert list(errors) == ["current_password"] and reason in errors["current_password"][0]
            user = _user(session, me)
            assert user.password_hash == hash_before and user.email == email_before

        response = client.patch(
            url, json={**changes, "current_password": PASSWORD}, headers=me.headers
        )
        assert response.status_code == 200, response.text
        user = _user(session, me)
        if "password" in changes:
            assert verify_password(changes["password"], user.password_hash)
            assert user.email == email_before
        else:
            assert user.email == changes["email"]
            assert user.password_hash == hash_before

    def test_profile_changes_need_no_password(self, client, ranks, session) -> None:
        me = ranks.reviewer
        email = _user(session, me).email
        response = client.patch(
            f"/api/users/{me.principal.user_id}",
            json={"first_name": "Rita", "email": email.upper()},
            headers=me.headers,
        )
        assert response.status_code == 200, response.text
        assert _user(session, me).first_name == "Rita"

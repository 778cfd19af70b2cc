"""People for other services' tests: organizations and users with API tokens, made directly.

Every service's permission-matrix tests need an owner, a manager, annotators and a member
of another organization, each with a token project-svc accepts; project-svc owns users,
so they are made through its services.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from labelops_common.auth.principal import Role
from labelops_common.db import Database
from project_svc.organizations import service as organizations
from project_svc.tokens import service as tokens
from project_svc.users import service as users

TEST_PASSWORD = "correct-horse-battery-9"  # noqa: S105 - test users only

_numbers = itertools.count(1)


@dataclass(frozen=True)
class Actor:
    user_id: int
    organization_id: int
    role: Role
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


def create_organization(database: Database, title: str) -> int:
    with database.session() as session:
        organization = organizations.create_organization(
            session, title=title, created_by_id=None, legacy_api_tokens_enabled=True
        )
        session.commit()
        return organization.id


def create_actor(
    database: Database, *, organization_id: int, role: Role, secret: str, email_prefix: str = ""
) -> Actor:
    """A user of `role` in the organization, with a legacy API token signed by `secret`."""
    email = f"{email_prefix}{role.value}{next(_numbers)}@example.com"
    with database.session() as session:
        user = users.create_user(
            session,
            email=email,
            password=TEST_PASSWORD,
            organization_id=organization_id,
            role=role,
        )
        key = tokens.set_legacy_token(session, user_id=user.id, secret=secret)
        session.commit()
        return Actor(
            user_id=user.id, organization_id=organization_id, role=role, email=email, token=key
        )

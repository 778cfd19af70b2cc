"""Organizations and memberships."""

from __future__ import annotations

import secrets

from labelops_common.auth.principal import Principal, Role
from labelops_common.http.errors import NotFound, ValidationFailed
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from project_svc.organizations.models import Membership, Organization, SessionPolicy
from project_svc.projects.models import Project
from project_svc.users.models import User


def create_organization(
    session: Session, *, title: str, created_by_id: int | None, legacy_api_tokens_enabled: bool
) -> Organization:
    organization = Organization(
        title=title,
        created_by_id=created_by_id,
        legacy_api_tokens_enabled=legacy_api_tokens_enabled,
    )
    session.add(organization)
    session.flush()
    return organization


def default_organization(session: Session) -> Organization | None:
    """The install's organization: LabelOps starts with one per install, like Label Studio."""
    return session.scalars(select(Organization).order_by(Organization.id).limit(1)).first()


def add_member(session: Session, *, organization_id: int, user_id: int, role: Role) -> Membership:
    membership = Membership(organization_id=organization_id, user_id=user_id, role=role.value)
    session.add(membership)
    session.flush()
    return membership


def get_organization(session: Session, *, organization_id: int) -> Organization:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise NotFound()
    return organization


def active_membership(session: Session, *, user: User) -> Membership | None:
    if user.active_organization_id is None:
        return None
    return session.scalars(
        select(Membership).where(
            Membership.organization_id == user.active_organization_id,
            Membership.user_id == user.id,
            Membership.is_active.is_(True),
        )
    ).first()


def principal_for(session: Session, *, user: User) -> Principal | None:
    """The identity a request by `user` acts as, or None if the user may not act at all."""
    if not user.is_active:
        return None
    membership = active_membership(session, user=user)
    if membership is None:
        return None
    return Principal(
        user_id=user.id,
        organization_id=membership.organization_id,
        role=Role(membership.role),
        email=user.email,
        username=user.username,
    )


def count_members(session: Session, *, organization_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.organization_id == organization_id, Membership.is_active.is_(True))
        )
        or 0
    )


def list_memberships(
    session: Session, *, organization_id: int, offset: int, limit: int
) -> list[tuple[Membership, User]]:
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == organization_id, Membership.is_active.is_(True))
        .order_by(Membership.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return [(membership, user) for membership, user in rows]


def active_member(session: Session, *, organization_id: int, user_id: int) -> Membership:
    """The user's active membership of the organization; anyone else is not found."""
    membership = session.scalars(
        select(Membership).where(
            Membership.organization_id == organization_id,
            Membership.user_id == user_id,
            Membership.is_active.is_(True),
        )
    ).first()
    if membership is None:
        raise NotFound()
    return membership


def member_role(session: Session, *, organization_id: int, user_id: int) -> Role:
    return Role(active_member(session, organization_id=organization_id, user_id=user_id).role)


def _count_owners(session: Session, *, organization_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.organization_id == organization_id,
                Membership.is_active.is_(True),
                Membership.role == Role.OWNER.value,
            )
        )
        or 0
    )


def _keep_an_owner(session: Session, *, membership: Membership) -> None:
    """An organization always keeps an active owner: the last one can neither leave nor step down."""
    if membership.role == Role.OWNER.value and (
        _count_owners(session, organization_id=membership.organization_id) <= 1
    ):
        raise ValidationFailed(
            {"role": ["The organization's only owner cannot step down; make another owner first."]}
        )


def change_member_role(session: Session, *, organization_id: int, user_id: int, role: Role) -> None:
    membership = active_member(session, organization_id=organization_id, user_id=user_id)
    if membership.role == role.value:
        return
    _keep_an_owner(session, membership=membership)
    membership.role = role.value
    session.flush()


def deactivate_member(session: Session, *, organization_id: int, user_id: int) -> None:
    membership = active_member(session, organization_id=organization_id, user_id=user_id)
    _keep_an_owner(session, membership=membership)
    membership.is_active = False


# ------------------------------------------------------------------------------ invites


def invite_token(session: Session, *, organization: Organization) -> str:
    """The organization's invite secret, made the first time anyone asks for it."""
    if organization.invite_token is None:
        organization.invite_token = secrets.token_urlsafe(24)
        session.flush()
    return organization.invite_token


def reset_invite_token(session: Session, *, organization: Organization) -> str:
    """A new invite secret: links handed out before stop working."""
    organization.invite_token = secrets.token_urlsafe(24)
    session.flush()
    return organization.invite_token


def organization_by_invite(session: Session, *, token: str) -> Organization | None:
    if not token:
        return None
    return session.scalars(select(Organization).where(Organization.invite_token == token)).first()


# ------------------------------------------------------------------------------ sessions


def session_policy(
    session: Session, *, organization_id: int, default_minutes: int
) -> SessionPolicy:
    """The organization's policy; without a row yet, an unsaved one holding the defaults."""
    policy = session.get(SessionPolicy, organization_id)
    if policy is None:
        policy = SessionPolicy(
            organization_id=organization_id,
            max_session_age=default_minutes,
            max_time_between_activity=default_minutes,
        )
    return policy


def update_session_policy(
    session: Session, *, policy: SessionPolicy, changes: dict[str, int]
) -> SessionPolicy:
    for name, value in changes.items():
        setattr(policy, name, value)
    session.add(policy)
    session.flush()
    return policy


def projects_created_by(
    session: Session, *, organization_id: int, user_id: int
) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Project.id, Project.title)
        .where(Project.organization_id == organization_id, Project.created_by_id == user_id)
        .order_by(Project.id)
    ).all()
    return [(int(row[0]), str(row[1])) for row in rows]


def session_days(session: Session, *, organization_id: int, default_days: int) -> float:
    """How long a session cookie issued now lives: the organization's `max_session_age`."""
    policy = session.get(SessionPolicy, organization_id)
    return default_days if policy is None else policy.max_session_age / 1440

"""Users: sign-up, admin-created users, password checks, profile updates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labelops_common.auth.principal import Role
from labelops_common.db import utcnow
from labelops_common.http.errors import NotFound, ValidationFailed
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from project_svc.organizations import service as organizations
from project_svc.organizations.models import Membership
from project_svc.users.models import User
from project_svc.users.passwords import (
    hash_password,
    needs_rehash,
    verify_against_nothing,
    verify_password,
)

MIN_PASSWORD_LENGTH = 8


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            {"password": [f"Ensure this field has at least {MIN_PASSWORD_LENGTH} characters."]}
        )


def find_user_by_email(session: Session, *, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalize_email(email))).first()


def create_user(
    session: Session,
    *,
    email: str,
    password: str | None,
    organization_id: int,
    role: Role,
    username: str = "",
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
) -> User:
    """A user and their membership, in the caller's transaction."""
    email = normalize_email(email)
    if find_user_by_email(session, email=email) is not None:
        raise ValidationFailed({"email": ["User with this email already exists."]})
    if password is not None:
        check_password_strength(password)
    user = User(
        email=email,
        username=username or email.split("@")[0],
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        password_hash=hash_password(password) if password else "",
        active_organization_id=organization_id,
    )
    session.add(user)
    session.flush()
    organizations.add_member(session, organization_id=organization_id, user_id=user.id, role=role)
    return user


def authenticate_password(session: Session, *, email: str, password: str) -> User | None:
    """The user these credentials sign in, else None.

    Every answer costs one scrypt check, so its timing does not tell a known email from an
    unknown one; a hash of older parameters is rewritten with the current ones.
    """
    user = find_user_by_email(session, email=email)
    if user is None or not user.is_active or not user.password_hash:
        verify_against_nothing(password)
        return None
    if not verify_password(password, user.password_hash):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_activity = utcnow()
    return user


def get_user_in_organization(session: Session, *, user_id: int, organization_id: int) -> User:
    """A user who belongs to the organization; anyone else is not found."""
    user = session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            User.id == user_id,
            Membership.organization_id == organization_id,
            Membership.is_active.is_(True),
        )
    ).first()
    if user is None:
        raise NotFound()
    return user


def list_users(session: Session, *, organization_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == organization_id, Membership.is_active.is_(True))
            .order_by(User.id)
        )
    )


def check_current_password(
    user: User, *, changes: Mapping[str, Any], current_password: str | None
) -> None:
    """One's own password or email changes only with the current password, so a stolen
    session or API token alone cannot take the account over."""
    changes_password = bool(changes.get("password"))
    new_email = changes.get("email")
    changes_email = new_email is not None and normalize_email(new_email) != user.email
    if not (changes_password or changes_email):
        return
    if not current_password:
        raise ValidationFailed(
            {"current_password": ["This field is required to change your password or email."]}
        )
    if not user.password_hash or not verify_password(current_password, user.password_hash):
        raise ValidationFailed({"current_password": ["The current password is incorrect."]})


def update_user(session: Session, *, user: User, changes: dict[str, Any]) -> User:
    if "email" in changes and changes["email"] is not None:
        email = normalize_email(changes.pop("email"))
        other = find_user_by_email(session, email=email)
        if other is not None and other.id != user.id:
            raise ValidationFailed({"email": ["User with this email already exists."]})
        user.email = email
    if "password" in changes:
        password = changes.pop("password")
        if password:
            check_password_strength(password)
            user.password_hash = hash_password(password)
            revoke_tokens(user)
    for field, value in changes.items():
        if value is not None:
            setattr(user, field, value)
    session.flush()
    return user


def revoke_tokens(user: User) -> None:
    """Every session cookie and JWT issued to the user so far stops working (at once in
    project-svc, within `token_cache_seconds` elsewhere)."""
    user.token_version += 1


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0

"""Sign-up and the admin bootstrap: how users come to exist."""

from __future__ import annotations

from labelops_common.auth.principal import Role
from labelops_common.db import advisory_xact_lock
from labelops_common.http.errors import PermissionDenied, ValidationFailed
from sqlalchemy.orm import Session

from project_svc.organizations import service as organizations
from project_svc.tokens import service as tokens
from project_svc.users import service as users
from project_svc.users.models import User
from project_svc.users.passwords import verify_password

#: Held while the install's organization and its owner may be created (the admin bootstrap,
#: a first sign-up), so two at once cannot both found it.
FOUNDING_LOCK = "labelops.bootstrap_admin"


def sign_up(
    session: Session,
    *,
    email: str,
    password: str,
    allow_signup: bool,
    legacy_tokens: bool,
    invite_token: str | None = None,
) -> User:
    """The first user founds the install's organization as its owner; later ones join it
    as annotators, only when sign-up is open (`allow_signup`), or when they bring an
    organization's invite token (`GET /api/invite`), which admits them to that
    organization however sign-up is set.

    A closed sign-up is refused before the email is looked at, so the answer never tells
    whether an account exists.
    """
    if invite_token:
        invited = organizations.organization_by_invite(session, token=invite_token)
        if invited is None:
            raise ValidationFailed(
                {"token": ["This invite link is not valid; it may have been reset."]}
            )
        return users.create_user(
            session,
            email=email,
            password=password,
            organization_id=invited.id,
            role=Role.ANNOTATOR,
        )
    organization = organizations.default_organization(session)
    if organization is None:
        advisory_xact_lock(session, FOUNDING_LOCK)
        organization = organizations.default_organization(session)
    if organization is None:
        organization = organizations.create_organization(
            session, title="LabelOps", created_by_id=None, legacy_api_tokens_enabled=legacy_tokens
        )
        user = users.create_user(
            session,
            email=email,
            password=password,
            organization_id=organization.id,
            role=Role.OWNER,
        )
        organization.created_by_id = user.id
        return user
    if not allow_signup:
        raise PermissionDenied("Sign-up is closed on this install; ask an administrator.")
    return users.create_user(
        session,
        email=email,
        password=password,
        organization_id=organization.id,
        role=Role.ANNOTATOR,
    )


def ensure_admin(
    session: Session,
    *,
    email: str,
    password: str | None,
    legacy_token: str | None,
    secret: str,
    legacy_tokens: bool,
) -> User:
    """Create (or update) the owner named by LABELOPS_ADMIN_*; safe to run at every start."""
    user = users.find_user_by_email(session, email=email)
    if user is None:
        organization = organizations.default_organization(session)
        if organization is None:
            organization = organizations.create_organization(
                session,
                title="LabelOps",
                created_by_id=None,
                legacy_api_tokens_enabled=legacy_tokens,
            )
        user = users.create_user(
            session,
            email=email,
            password=password,
            organization_id=organization.id,
            role=Role.OWNER,
        )
        if organization.created_by_id is None:
            organization.created_by_id = user.id
    elif password and not (user.password_hash and verify_password(password, user.password_hash)):
        # Only a new password is set: setting one revokes the admin's sessions.
        users.update_user(session, user=user, changes={"password": password})
    if legacy_token:
        tokens.set_legacy_token(session, user_id=user.id, secret=secret, key=legacy_token)
    return user

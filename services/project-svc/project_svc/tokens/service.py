"""API tokens in both of Label Studio's forms.

Legacy keys (`Token <key>`) are 40 hex characters, one per user. Personal access tokens
are refresh JWTs that clients exchange at `/api/token/refresh` for 5-minute access JWTs,
which every service verifies locally.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken as FernetInvalidToken
from labelops_common.auth.jwt_tokens import (
    InvalidToken,
    decode_signed_in_token,
    decode_token,
    encode_token,
    looks_like_jwt,
)
from labelops_common.auth.principal import Principal
from labelops_common.db import utcnow
from labelops_common.http.errors import AuthenticationFailed, NotFound, ValidationFailed
from sqlalchemy import select
from sqlalchemy.orm import Session

from project_svc.organizations import service as organizations
from project_svc.organizations.models import Organization
from project_svc.tokens.models import LegacyToken, RefreshToken
from project_svc.users.models import User

MIN_LEGACY_KEY_LENGTH = 6


def _fernet(secret: str) -> Fernet:
    key = hashlib.sha256(("labelops-legacy-token:" + secret).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def set_legacy_token(session: Session, *, user_id: int, secret: str, key: str | None = None) -> str:
    """Give the user a new legacy key (or the chosen one), replacing any old key."""
    key = key if key is not None else secrets.token_hex(20)
    if len(key) < MIN_LEGACY_KEY_LENGTH:
        raise ValidationFailed(
            {"token": [f"A token must be longer than {MIN_LEGACY_KEY_LENGTH - 1} characters."]}
        )
    existing = session.get(LegacyToken, user_id)
    holder = session.scalars(
        select(LegacyToken).where(LegacyToken.key_digest == _digest(key))
    ).first()
    if holder is not None and holder.user_id != user_id:
        raise ValidationFailed({"token": ["This token is already in use."]})
    ciphertext = _fernet(secret).encrypt(key.encode()).decode()
    if existing is None:
        session.add(
            LegacyToken(user_id=user_id, key_digest=_digest(key), key_ciphertext=ciphertext)
        )
    else:
        existing.key_digest = _digest(key)
        existing.key_ciphertext = ciphertext
        existing.created_at = utcnow()
    session.flush()
    return key


def reveal_legacy_token(session: Session, *, user_id: int, secret: str) -> str:
    token = session.get(LegacyToken, user_id)
    if token is None:
        return set_legacy_token(session, user_id=user_id, secret=secret)
    try:
        return _fernet(secret).decrypt(token.key_ciphertext.encode()).decode()
    except FernetInvalidToken:
        # The secret key was rotated: the old key is unreadable, so issue a new one.
        return set_legacy_token(session, user_id=user_id, secret=secret)


def resolve_token(session: Session, *, token: str, secret: str) -> Principal | None:
    """Who a request's token acts as, by the database: an access or session JWT of the
    user's current token version, or a legacy key. None when it is not (or no longer) valid."""
    if looks_like_jwt(token):
        claims = decode_signed_in_token(token, secret=secret)
        if claims is None:
            return None
        user = _current_holder(session, user_id=claims.user_id, version=claims.version)
        return organizations.principal_for(session, user=user) if user else None
    return resolve_legacy_token(session, key=token)


def _current_holder(session: Session, *, user_id: int, version: int) -> User | None:
    """The user a token was issued to, if it exists and the token's version is current."""
    user = session.get(User, user_id)
    if user is None or user.token_version != version:
        return None
    return user


def resolve_legacy_token(session: Session, *, key: str) -> Principal | None:
    row = session.scalars(select(LegacyToken).where(LegacyToken.key_digest == _digest(key))).first()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None:
        return None
    principal = organizations.principal_for(session, user=user)
    if principal is None:
        return None
    organization = session.get(Organization, principal.organization_id)
    if organization is None or not organization.legacy_api_tokens_enabled:
        return None
    return principal


@dataclass(frozen=True)
class IssuedToken:
    token: str
    created_at: datetime
    expires_at: datetime


def _preview(token: str) -> str:
    """`header.payload` without the signature: what Label Studio lists, unusable as a key."""
    return token.rsplit(".", 1)[0]


def create_personal_access_token(
    session: Session, *, principal: Principal, secret: str
) -> IssuedToken:
    """A new refresh JWT for the caller.

    Label Studio answers 409 when the user already has one, which the SDK retries in vain;
    LabelOps lets a user hold several and revoke each.
    """
    organization = organizations.get_organization(
        session, organization_id=principal.organization_id
    )
    if not organization.api_tokens_enabled:
        raise ValidationFailed({"token": ["Personal access tokens are disabled."]})
    lifetime = int(timedelta(days=organization.api_token_ttl_days).total_seconds())
    user = session.get(User, principal.user_id)
    token, claims = encode_token(
        secret=secret,
        token_type="refresh",
        user_id=principal.user_id,
        lifetime_seconds=lifetime,
        version=user.token_version if user else 0,
    )
    created = datetime.fromtimestamp(claims.issued_at, UTC)
    expires = datetime.fromtimestamp(claims.expires_at, UTC)
    session.add(
        RefreshToken(
            jti=claims.jti,
            user_id=principal.user_id,
            token_preview=_preview(token),
            created_at=created,
            expires_at=expires,
        )
    )
    session.flush()
    return IssuedToken(token=token, created_at=created, expires_at=expires)


def list_personal_access_tokens(session: Session, *, user_id: int) -> list[RefreshToken]:
    return list(
        session.scalars(
            select(RefreshToken)
            .where(
                RefreshToken.user_id == user_id,
                RefreshToken.blacklisted_at.is_(None),
                RefreshToken.expires_at > utcnow(),
            )
            .order_by(RefreshToken.created_at)
        )
    )


def _live_refresh_token(session: Session, *, token: str, secret: str) -> RefreshToken:
    try:
        claims = decode_token(token, secret=secret, expected_type="refresh")
    except InvalidToken:
        raise AuthenticationFailed("Token is invalid or expired") from None
    row = session.get(RefreshToken, claims.jti)
    if row is None or row.blacklisted_at is not None:
        raise AuthenticationFailed("Token is blacklisted")
    return row


def issue_access_token(session: Session, *, refresh: str, secret: str, minutes: int) -> str:
    row = _live_refresh_token(session, token=refresh, secret=secret)
    version = decode_token(refresh, secret=secret, expected_type="refresh").version
    user = _current_holder(session, user_id=row.user_id, version=version)
    principal = organizations.principal_for(session, user=user) if user else None
    if user is None or principal is None:
        raise AuthenticationFailed("User is inactive")
    access, _ = encode_token(
        secret=secret,
        token_type="access",
        user_id=principal.user_id,
        organization_id=principal.organization_id,
        role=principal.role,
        lifetime_seconds=minutes * 60,
        version=user.token_version,
    )
    return access


def blacklist_refresh_token(session: Session, *, refresh: str, secret: str) -> None:
    try:
        claims = decode_token(refresh, secret=secret, expected_type="refresh")
    except InvalidToken:
        raise AuthenticationFailed("Token is invalid or expired") from None
    row = session.get(RefreshToken, claims.jti)
    if row is None or row.blacklisted_at is not None:
        raise NotFound("Token is already blacklisted or unknown.")
    row.blacklisted_at = utcnow()


def rotate_refresh_token(
    session: Session, *, refresh: str, principal: Principal, secret: str
) -> IssuedToken:
    row = _live_refresh_token(session, token=refresh, secret=secret)
    if row.user_id != principal.user_id:
        raise NotFound("Token is unknown.")
    row.blacklisted_at = utcnow()
    return create_personal_access_token(session, principal=principal, secret=secret)


def issue_session_token(*, user: User, principal: Principal, secret: str, days: float) -> str:
    token, _ = encode_token(
        secret=secret,
        token_type="session",
        user_id=principal.user_id,
        organization_id=principal.organization_id,
        role=principal.role,
        lifetime_seconds=int(days * 86_400),
        version=user.token_version,
    )
    return token

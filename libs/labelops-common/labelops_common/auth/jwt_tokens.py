"""JWTs in Label Studio's shapes: personal access tokens are refresh JWTs, exchanged for
short-lived access JWTs; the browser session is a JWT in a cookie.

All are HS256 with the suite's secret key, so every service verifies access and session
tokens locally; only refresh tokens (which can be revoked) need project-svc's database.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from labelops_common.auth.principal import Principal, Role

TokenType = Literal["access", "refresh", "session"]
_ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is malformed, expired, of the wrong type or wrongly signed."""


@dataclass(frozen=True)
class TokenClaims:
    token_type: TokenType
    user_id: int
    jti: str
    issued_at: int
    expires_at: int
    organization_id: int | None = None
    role: Role | None = None


def encode_token(
    *,
    secret: str,
    token_type: TokenType,
    user_id: int,
    lifetime_seconds: int,
    organization_id: int | None = None,
    role: Role | None = None,
    now: float | None = None,
) -> tuple[str, TokenClaims]:
    issued = int(now if now is not None else time.time())
    claims = TokenClaims(
        token_type=token_type,
        user_id=user_id,
        jti=uuid.uuid4().hex,
        issued_at=issued,
        expires_at=issued + lifetime_seconds,
        organization_id=organization_id,
        role=role,
    )
    payload: dict[str, Any] = {
        "token_type": token_type,
        "user_id": user_id,
        "jti": claims.jti,
        "iat": claims.issued_at,
        "exp": claims.expires_at,
    }
    if organization_id is not None:
        payload["org"] = organization_id
    if role is not None:
        payload["role"] = role.value
    return jwt.encode(payload, secret, algorithm=_ALGORITHM), claims


def decode_token(token: str, *, secret: str, expected_type: TokenType) -> TokenClaims:
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            options={"require": ["exp", "iat", "jti", "token_type", "user_id"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    if payload.get("token_type") != expected_type:
        raise InvalidToken(f"expected a {expected_type} token")
    try:
        role = Role(payload["role"]) if "role" in payload else None
        return TokenClaims(
            token_type=expected_type,
            user_id=int(payload["user_id"]),
            jti=str(payload["jti"]),
            issued_at=int(payload["iat"]),
            expires_at=int(payload["exp"]),
            organization_id=int(payload["org"]) if "org" in payload else None,
            role=role,
        )
    except (ValueError, TypeError, KeyError):
        raise InvalidToken("malformed claims") from None


def looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2 and value.startswith("eyJ")


def principal_from_claims(claims: TokenClaims) -> Principal:
    if claims.organization_id is None or claims.role is None:
        raise InvalidToken("token carries no organization")
    return Principal(
        user_id=claims.user_id, organization_id=claims.organization_id, role=claims.role
    )

"""JWTs in Label Studio's shapes: personal access tokens are refresh JWTs, exchanged for
short-lived access JWTs; the browser session is a JWT in a cookie.

All are HS256 with the suite's secret key, so every service verifies their signature
locally. Each carries the user's token version (`ver`): project-svc bumps it to revoke
every token a user holds, and every request checks it (see `authenticate.py`).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from labelops_common.auth.principal import Role

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
    #: The user's token version when it was issued; a token of an older version is revoked.
    version: int = 0


def encode_token(
    *,
    secret: str,
    token_type: TokenType,
    user_id: int,
    lifetime_seconds: int,
    organization_id: int | None = None,
    role: Role | None = None,
    version: int = 0,
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
        version=version,
    )
    payload: dict[str, Any] = {
        "token_type": token_type,
        "user_id": user_id,
        "jti": claims.jti,
        "iat": claims.issued_at,
        "exp": claims.expires_at,
        "ver": version,
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
            version=int(payload.get("ver", 0)),
        )
    except (ValueError, TypeError, KeyError):
        raise InvalidToken("malformed claims") from None


def looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2 and value.startswith("eyJ")


def decode_signed_in_token(token: str, *, secret: str) -> TokenClaims | None:
    """The claims of a valid access or session token (what a request signs in with)."""
    signed_in_types: tuple[TokenType, ...] = ("access", "session")
    for token_type in signed_in_types:
        try:
            return decode_token(token, secret=secret, expected_type=token_type)
        except InvalidToken:
            continue
    return None

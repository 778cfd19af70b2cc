"""Authenticate a request the same way in every service.

Checks, in Label Studio's order: `Authorization: Bearer <access JWT>`,
`Authorization: Token <key>` or `X-Api-Key: <key>` (a legacy key), then the browser's
session cookie (on unsafe methods, with the session's own CSRF token in `X-CSRFToken`).

JWTs are verified locally (signature, expiry), then, like legacy keys, resolved by
project-svc: directly in its own process, over gRPC elsewhere, cached for
`token_cache_seconds`. Its database says whether the user still exists and is active,
whether the token's version is current (a deleted user, a changed password or role
revokes every token issued before), and which role the request acts with. So a
revocation reaches project-svc at once and the other services within
`token_cache_seconds` (30 s by default).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from typing import Annotated, Protocol, cast

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from labelops_common.auth.jwt_tokens import InvalidToken, decode_token, looks_like_jwt
from labelops_common.auth.principal import Principal
from labelops_common.http.errors import AuthenticationFailed, NotAuthenticated, PermissionDenied

SESSION_COOKIE = "labelops_session"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: What `authenticate_without_waiting` answers when only a lookup can tell.
NEEDS_WAITING = object()


class LegacyTokenResolver(Protocol):
    """Project-svc's answer for a token: a legacy key, or an access or session JWT whose
    signature was checked already. None when the token, its user or its version is not
    (or no longer) valid; the role comes from the database, not from the token."""

    def __call__(self, token: str) -> Principal | None: ...


class CachedTokenResolver:
    """Remembers positive answers of another resolver for `ttl_seconds`.

    Keys are digests, so the cache never holds a usable token. Misses are not cached:
    a freshly created token works at once, and a revoked one stops within the TTL.
    """

    def __init__(self, inner: LegacyTokenResolver, *, ttl_seconds: float) -> None:
        self._inner = inner
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def peek(self, token: str) -> Principal | None:
        """The remembered answer, without asking the inner resolver (no I/O)."""
        return self._remembered(_digest(token))

    def __call__(self, token: str) -> Principal | None:
        key = _digest(token)
        remembered = self._remembered(key)
        if remembered is not None:
            return remembered
        now = time.monotonic()
        principal = self._inner(token)
        if principal is not None:
            with self._lock:
                if len(self._entries) > 10_000:
                    self._entries.clear()
                self._entries[key] = (now + self._ttl, principal)
        return principal

    def _remembered(self, key: str) -> Principal | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry and entry[0] > time.monotonic():
            return entry[1]
        return None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RequestAuthenticator:
    def __init__(self, *, secret: str, legacy_resolver: LegacyTokenResolver) -> None:
        self._secret = secret
        self._legacy_resolver = legacy_resolver

    def authenticate(self, request: Request) -> Principal | None:
        # Waiting, it never answers NEEDS_WAITING.
        return cast(Principal | None, self._authenticate(request, wait=True))

    def authenticate_without_waiting(self, request: Request) -> Principal | object | None:
        """As `authenticate`, or NEEDS_WAITING when only a lookup (gRPC, the database) can tell."""
        return self._authenticate(request, wait=False)

    def _authenticate(self, request: Request, *, wait: bool) -> Principal | object | None:
        header = request.headers.get("authorization", "").strip()
        if header:
            scheme, _, credential = header.partition(" ")
            credential = credential.strip()
            if scheme.lower() == "bearer" and credential:
                return self._from_access_token(credential, wait=wait)
            if scheme.lower() == "token" and credential:
                return self._from_legacy_token(credential, wait=wait)
            raise AuthenticationFailed("Invalid Authorization header: expected 'Token <key>'.")
        api_key = request.headers.get("x-api-key", "").strip()
        if api_key:
            return self._from_legacy_token(api_key, wait=wait)
        session = request.cookies.get(SESSION_COOKIE)
        if session:
            principal = self._from_session(session, wait=wait)
            if principal is NEEDS_WAITING:
                return principal
            if principal is not None and request.method not in _SAFE_METHODS:
                require_csrf(request, secret=self._secret)
            return principal
        return None

    def _from_access_token(self, token: str, *, wait: bool) -> Principal | object:
        try:
            decode_token(token, secret=self._secret, expected_type="access")
        except InvalidToken:
            raise AuthenticationFailed("Given token not valid for any token type") from None
        principal = self._resolve(token, wait=wait)
        if principal is None:
            raise AuthenticationFailed("Given token not valid for any token type")
        return principal

    def _from_legacy_token(self, token: str, *, wait: bool) -> Principal | object:
        # A JWT is no legacy key: it must come as `Bearer` or as the session cookie.
        principal = None if looks_like_jwt(token) else self._resolve(token, wait=wait)
        if principal is None:
            raise AuthenticationFailed("Invalid token.")
        return principal

    def _from_session(self, cookie: str, *, wait: bool) -> Principal | object | None:
        try:
            decode_token(cookie, secret=self._secret, expected_type="session")
        except InvalidToken:
            return None
        return self._resolve(cookie, wait=wait)

    def _resolve(self, token: str, *, wait: bool) -> Principal | object | None:
        """The resolver's answer; without waiting, only a remembered one (or NEEDS_WAITING)."""
        if wait:
            return self._legacy_resolver(token)
        peek = getattr(self._legacy_resolver, "peek", None)
        principal = peek(token) if peek is not None else None
        return NEEDS_WAITING if principal is None else principal


def csrf_token_for(session_cookie: str, *, secret: str) -> str:
    """The CSRF token of one session: an HMAC of its cookie, so a token set by anyone else
    (a sibling subdomain tossing a `csrftoken` cookie) or kept from an older session fails."""
    digest = hmac.new(secret.encode(), b"csrf\x00" + session_cookie.encode(), hashlib.sha256)
    return digest.hexdigest()


def require_csrf(request: Request, *, secret: str) -> None:
    """The session's CSRF token (its `csrftoken` cookie) must come back in `X-CSRFToken`."""
    session = request.cookies.get(SESSION_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not session or not hmac.compare_digest(csrf_token_for(session, secret=secret), header):
        raise PermissionDenied("CSRF Failed: CSRF token missing or incorrect.")


async def optional_principal(request: Request) -> Principal | None:
    """Async so that most requests authenticate without a trip to the thread pool: a token
    or cookie seen lately is answered from memory, and only one not seen lately is looked
    up (in a thread, as that waits on gRPC or the database)."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    authenticator: RequestAuthenticator = request.app.state.authenticator
    found = authenticator.authenticate_without_waiting(request)
    if found is NEEDS_WAITING:
        found = await run_in_threadpool(authenticator.authenticate, request)
    principal = cast(Principal | None, found)
    request.state.principal = principal
    return principal


async def current_principal(request: Request) -> Principal:
    principal = await optional_principal(request)
    if principal is None:
        raise NotAuthenticated()
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]
MaybeUser = Annotated[Principal | None, Depends(optional_principal)]

PolicyCheck = Callable[[Principal], bool]

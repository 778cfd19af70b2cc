"""Authenticate a request the same way in every service.

Checks, in Label Studio's order: `Authorization: Bearer <access JWT>` (verified locally),
`Authorization: Token <key>` or `X-Api-Key: <key>` (a legacy key, resolved by project-svc:
directly in its own process, over gRPC with a short cache elsewhere), then the browser's
session cookie (verified locally, with a double-submit CSRF check on unsafe methods).
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

from labelops_common.auth.jwt_tokens import (
    InvalidToken,
    decode_token,
    principal_from_claims,
)
from labelops_common.auth.principal import Principal
from labelops_common.http.errors import AuthenticationFailed, NotAuthenticated, PermissionDenied

SESSION_COOKIE = "labelops_session"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: What `authenticate_without_waiting` answers when only a lookup can tell.
NEEDS_WAITING = object()


class LegacyTokenResolver(Protocol):
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
                return self._from_access_token(credential)
            if scheme.lower() == "token" and credential:
                return self._from_legacy_token(credential, wait=wait)
            raise AuthenticationFailed("Invalid Authorization header: expected 'Token <key>'.")
        api_key = request.headers.get("x-api-key", "").strip()
        if api_key:
            return self._from_legacy_token(api_key, wait=wait)
        session = request.cookies.get(SESSION_COOKIE)
        if session:
            principal = self._from_session(session)
            if principal is not None and request.method not in _SAFE_METHODS:
                require_csrf(request)
            return principal
        return None

    def _from_access_token(self, token: str) -> Principal:
        try:
            return principal_from_claims(
                decode_token(token, secret=self._secret, expected_type="access")
            )
        except InvalidToken:
            raise AuthenticationFailed("Given token not valid for any token type") from None

    def _from_legacy_token(self, token: str, *, wait: bool) -> Principal | object:
        if not wait:
            peek = getattr(self._legacy_resolver, "peek", None)
            principal = peek(token) if peek is not None else None
            return NEEDS_WAITING if principal is None else principal
        principal = self._legacy_resolver(token)
        if principal is None:
            raise AuthenticationFailed("Invalid token.")
        return principal

    def _from_session(self, cookie: str) -> Principal | None:
        try:
            return principal_from_claims(
                decode_token(cookie, secret=self._secret, expected_type="session")
            )
        except InvalidToken:
            return None


def require_csrf(request: Request) -> None:
    """Double-submit check: the `csrftoken` cookie must be echoed in `X-CSRFToken`."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie, header):
        raise PermissionDenied("CSRF Failed: CSRF token missing or incorrect.")


async def optional_principal(request: Request) -> Principal | None:
    """Async so that most requests authenticate without a trip to the thread pool: tokens
    and cookies are checked in memory, and only a legacy key not seen lately is looked up
    (in a thread, as that waits on gRPC or the database)."""
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

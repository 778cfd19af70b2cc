"""Authenticating without the thread pool when memory can tell, and with it when it cannot."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from labelops_common.auth.authenticate import (
    NEEDS_WAITING,
    CachedTokenResolver,
    RequestAuthenticator,
    current_principal,
)
from labelops_common.auth.jwt_tokens import encode_token
from labelops_common.auth.principal import Principal, Role
from labelops_common.http.errors import AuthenticationFailed, NotAuthenticated
from starlette.requests import Request

SECRET = "authenticate-tests-secret-0123456789abcdef0123456789"
T = TypeVar("T")
OWNER = Principal(user_id=7, organization_id=3, role=Role.OWNER)


class CountingResolver:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, token: str) -> Principal | None:
        self.calls.append(token)
        return OWNER if token == "good-key" else None


def request_with(headers: dict[str, str], authenticator: RequestAuthenticator) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(authenticator=authenticator))
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "app": app,
            "state": {},
        }
    )


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on a thread of its own: Playwright's sync API may hold this thread's event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_key_seen_lately_is_answered_without_waiting() -> None:
    inner = CountingResolver()
    authenticator = RequestAuthenticator(
        secret=SECRET, legacy_resolver=CachedTokenResolver(inner, ttl_seconds=60)
    )
    key = {"Authorization": "Token good-key"}
    assert authenticator.authenticate_without_waiting(request_with(key, authenticator)) is (
        NEEDS_WAITING
    )
    assert inner.calls == []  # not looked up on the event loop
    assert authenticator.authenticate(request_with(key, authenticator)) == OWNER
    assert authenticator.authenticate_without_waiting(request_with(key, authenticator)) == OWNER
    assert inner.calls == ["good-key"]


def test_the_dependency_looks_up_unknown_keys_in_a_thread_and_refuses_bad_ones() -> None:
    inner = CountingResolver()
    authenticator = RequestAuthenticator(
        secret=SECRET, legacy_resolver=CachedTokenResolver(inner, ttl_seconds=60)
    )
    found = _run(current_principal(request_with({"X-Api-Key": "good-key"}, authenticator)))
    assert found == OWNER
    with pytest.raises(AuthenticationFailed, match="Invalid token"):
        _run(current_principal(request_with({"X-Api-Key": "bad-key"}, authenticator)))
    with pytest.raises(NotAuthenticated):
        _run(current_principal(request_with({}, authenticator)))
    # Misses are never remembered: the bad key was asked each time it came.
    _run(current_principal(request_with({"X-Api-Key": "good-key"}, authenticator)))
    assert inner.calls == ["good-key", "bad-key"]


def _access_token(user_id: int = 7, role: Role = Role.OWNER) -> str:
    token, _ = encode_token(
        secret=SECRET,
        token_type="access",
        user_id=user_id,
        organization_id=3,
        role=role,
        lifetime_seconds=60,
    )
    return token


class DatabaseResolver:
    """Answers as project-svc does: only `current` is valid, and its user is now an annotator."""

    def __init__(self, current: str) -> None:
        self.current = current
        self.calls: list[str] = []

    def __call__(self, token: str) -> Principal | None:
        self.calls.append(token)
        if token != self.current:
            return None
        return Principal(user_id=7, organization_id=3, role=Role.ANNOTATOR)


def test_access_tokens_are_checked_by_the_resolver_and_remembered() -> None:
    token = _access_token()
    inner = DatabaseResolver(token)
    authenticator = RequestAuthenticator(
        secret=SECRET, legacy_resolver=CachedTokenResolver(inner, ttl_seconds=60)
    )
    bearer = request_with({"Authorization": f"Bearer {token}"}, authenticator)
    assert authenticator.authenticate_without_waiting(bearer) is NEEDS_WAITING
    assert inner.calls == []  # not looked up on the event loop
    found = authenticator.authenticate(bearer)
    # The role is the database's, not the token's.
    assert found == Principal(user_id=7, organization_id=3, role=Role.ANNOTATOR)
    assert authenticator.authenticate_without_waiting(bearer) == found
    assert inner.calls == [token]
    forged = request_with({"Authorization": f"Bearer {token[:-2]}xx"}, authenticator)
    with pytest.raises(AuthenticationFailed):
        authenticator.authenticate_without_waiting(forged)
    assert inner.calls == [token]  # a bad signature never reaches the resolver


def test_a_token_the_resolver_refuses_is_refused() -> None:
    """A correctly signed token for a user that does not exist (or of an old version)."""
    token = _access_token()
    inner = DatabaseResolver(token)
    authenticator = RequestAuthenticator(secret=SECRET, legacy_resolver=inner)
    stranger = request_with({"Authorization": f"Bearer {_access_token(999)}"}, authenticator)
    with pytest.raises(AuthenticationFailed):
        authenticator.authenticate(stranger)
    # A JWT is no legacy key either.
    as_key = request_with({"Authorization": f"Token {token}"}, authenticator)
    with pytest.raises(AuthenticationFailed, match="Invalid token"):
        authenticator.authenticate(as_key)


def test_a_resolver_without_a_cache_waits() -> None:
    inner = CountingResolver()
    authenticator = RequestAuthenticator(secret=SECRET, legacy_resolver=inner)
    key = request_with({"Authorization": "Token good-key"}, authenticator)
    assert authenticator.authenticate_without_waiting(key) is NEEDS_WAITING
    bearer = request_with({"Authorization": f"Bearer {_access_token()}"}, authenticator)
    assert authenticator.authenticate_without_waiting(bearer) is NEEDS_WAITING
    assert inner.calls == []

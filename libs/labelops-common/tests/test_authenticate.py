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


def test_access_tokens_are_checked_in_memory_and_a_resolver_without_a_cache_waits() -> None:
    inner = CountingResolver()
    authenticator = RequestAuthenticator(secret=SECRET, legacy_resolver=inner)
    token, _ = encode_token(
        secret=SECRET,
        token_type="access",
        user_id=7,
        organization_id=3,
        role=Role.OWNER,
        lifetime_seconds=60,
    )
    bearer = request_with({"Authorization": f"Bearer {token}"}, authenticator)
    assert authenticator.authenticate_without_waiting(bearer) == OWNER
    forged = request_with({"Authorization": f"Bearer {token[:-2]}xx"}, authenticator)
    with pytest.raises(AuthenticationFailed):
        authenticator.authenticate_without_waiting(forged)
    key = request_with({"Authorization": "Token good-key"}, authenticator)
    assert authenticator.authenticate_without_waiting(key) is NEEDS_WAITING
    assert inner.calls == []

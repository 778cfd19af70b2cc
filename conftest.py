"""Isolation every test module gets, whichever folder it lives in.

pytest runs every module of `make test` in one process. Celery's default and current apps
are process-wide: a module that makes an app (an embedded worker's, a publisher's) must not
leave it current for the next module, whose jobs would go to a broker that is gone. (Job
resources, the other process-wide registry, leave it when their runtime closes:
`ServiceRuntime.close`.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module", autouse=True)
def celery_apps_restored() -> Iterator[None]:
    """A module that makes a Celery app makes it the current one; the next module must not
    send its jobs through it (its broker may be gone)."""
    from celery import _state as celery_state

    default = celery_state.default_app
    current = getattr(celery_state._tls, "current_app", None)
    yield
    celery_state.set_default_app(default)
    celery_state._set_current_app(current)

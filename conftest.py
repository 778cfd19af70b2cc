"""Isolation every test module gets, whichever folder it lives in.

pytest runs every module of `make test` in one process. Job resources and event handlers
are process-wide registries (each service registers into them when built or imported), so
a stack a previous module built and tore down would still be registered, pointing at its
dropped databases: its services' event handlers would run in the next module's worker and
fail there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from labelops_common.jobs import resources as job_resources


@pytest.fixture(scope="module", autouse=True)
def fresh_job_resources() -> Iterator[None]:
    """Each module starts with no service's job resources registered."""
    with job_resources._lock:  # the registry's own lock, private to it
        job_resources._registered.clear()
    yield


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

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

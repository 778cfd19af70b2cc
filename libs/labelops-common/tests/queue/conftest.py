from __future__ import annotations

import os

import pytest


@pytest.fixture()
def redis_url() -> str:
    url = os.environ.get("LABELOPS_TEST_REDIS_URL")
    if not url:
        if os.environ.get("LABELOPS_REQUIRE_INFRA") == "1":
            raise RuntimeError("LABELOPS_TEST_REDIS_URL is not set but infrastructure is required")
        pytest.skip("Redis is started by `make test`; not running here")
    return url

"""The storage type catalogue: for signed-in members only, like every other route."""

from __future__ import annotations

import pytest

from .conftest import Cast, Stack


@pytest.mark.parametrize("path", ["/api/storages/types", "/api/storages/export/types"])
def test_the_type_catalogue_needs_a_signed_in_caller(stack: Stack, cast: Cast, path: str) -> None:
    anonymous = stack.storage.get(path)
    assert anonymous.status_code == 401, anonymous.text
    assert "localfiles" not in anonymous.text

    member = stack.storage.get(path, headers=cast.annotator.headers)
    assert member.status_code == 200, member.text
    assert {"localfiles", "s3", "gcs", "azure", "redis"} <= {t["name"] for t in member.json()}

"""Answer shapes every service shares: Label Studio's page envelope and its timestamps.

Routes declare their answers as Pydantic models so each service's OpenAPI document is
complete and the web app's types are generated from it (`make openapi`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, WithJsonSchema

#: A timestamp as served: the string `timestamp()` formats (Label Studio's clients compare
#: them as text), documented as an RFC 3339 date-time.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


def timestamp(value: datetime | None) -> str | None:
    """Label Studio's datetime format: ISO 8601 with microseconds and a Z (None stays None)."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """`{count, next, previous, results}` (`labelops_common.http.pagination.page_envelope`)."""

    count: int
    next: str | None
    previous: str | None
    results: list[ItemT]

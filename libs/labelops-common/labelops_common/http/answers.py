"""Answer shapes every service shares: Label Studio's page envelope and its timestamps.

Routes declare their answers as Pydantic models so each service's OpenAPI document is
complete and the web app's types are generated from it (`make openapi`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, WithJsonSchema
from pydantic_core import to_json
from starlette.responses import Response

from labelops_common.db import utcnow

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


def documented(model: Any, status_code: int = 200) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route that builds its answer itself (`json_answer`): the document
    names `model` as the answer, and no request pays for validating it against `model`.

    For hot paths (a page of tasks, an annotation written per click), declared together
    with `response_model=None`; their tests check the answers against `model`.
    """
    return {status_code: {"model": model, "description": "Successful Response"}}


def json_answer(content: Any, status_code: int = 200) -> Response:
    """`content` as JSON, serialised by pydantic-core as FastAPI serialises a response model
    (timestamps are already strings), without validating it."""
    return Response(to_json(content), status_code=status_code, media_type="application/json")


#: Django's `timesince` units, largest first (a month is 30 days, a year 365).
_UNITS = (
    (365 * 24 * 3600, "year"),
    (30 * 24 * 3600, "month"),
    (7 * 24 * 3600, "week"),
    (24 * 3600, "day"),
    (3600, "hour"),
    (60, "minute"),
)
_NBSP = "\xa0"


def time_ago(moment: datetime, now: datetime | None = None) -> str:
    """Django's `timesince`: the two largest adjacent units, e.g. "1 day, 3 hours"."""
    seconds = int(((now or utcnow()) - moment).total_seconds())
    if seconds < 60:
        return f"0{_NBSP}minutes"
    parts: list[str] = []
    for index, (size, name) in enumerate(_UNITS):
        count = seconds // size
        if count:
            parts.append(f"{count}{_NBSP}{name}{'' if count == 1 else 's'}")
            if index + 1 < len(_UNITS):
                size2, name2 = _UNITS[index + 1]
                count2 = (seconds - count * size) // size2
                if count2:
                    parts.append(f"{count2}{_NBSP}{name2}{'' if count2 == 1 else 's'}")
            break
    return ", ".join(parts)

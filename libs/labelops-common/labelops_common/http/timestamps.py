"""Label Studio's datetime format, as every service's response bodies write it."""

from __future__ import annotations

from datetime import datetime


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 with microseconds and a Z (None stays None)."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

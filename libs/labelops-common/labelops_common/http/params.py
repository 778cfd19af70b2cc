"""Query-string conventions of Label Studio: its booleans and its list-valued params."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from labelops_common.http.errors import ValidationFailed

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "not", "off", "0"}


def parse_bool(value: str | None, *, field: str, default: bool) -> bool:
    """Label Studio accepts true/yes/on/1 and false/no/not/off/0, any case."""
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValidationFailed({field: [f'"{value}" is not a valid boolean.']})


def parse_optional_int(value: Any, *, field: str) -> int | None:
    """An integer from a query or body value; empty means absent, a boolean is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationFailed({field: ["A valid integer is required."]})
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed({field: ["A valid integer is required."]}) from None


def parse_int_list(values: Iterable[str], *, field: str) -> list[int]:
    """Merge repeated keys (`ids=1&ids=2`) and separated strings (`ids=1,2;3|4`)."""
    result: list[int] = []
    for value in values:
        for part in re.split(r"[,;|]", value):
            part = part.strip().strip("[]")
            if not part:
                continue
            try:
                result.append(int(part))
            except ValueError:
                raise ValidationFailed({field: [f'"{part}" is not a valid integer.']}) from None
    return result

"""Query-string conventions of Label Studio: its booleans and its list-valued params."""

from __future__ import annotations

import re
from collections.abc import Iterable

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

"""Refuse request text PostgreSQL cannot store, naming where it is.

JSON may carry `\\u0000` and unpaired surrogates (`\\ud800`); Python decodes both into a
`str`, and the database then refuses the row (a NUL in JSON or text, a surrogate in any
UTF-8 column), which surfaced as a 500 after the handler had done its work. Python's
decoder also takes `NaN` and `Infinity`, which are not JSON and which `jsonb` refuses. Every JSON body
a route parsed is checked here first, as a dependency of every service's app, so the caller
gets a 400 naming the field (`data.text`, `result.0.value.text.1`) before anything runs.
Bodies a route streams itself (imports) are checked where they are parsed.
"""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi import Request

from labelops_common.http.errors import ValidationFailed

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: Keeps one answer short when a body is full of bad strings.
_MAX_REPORTED = 10


def unstorable_reason(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "Contains a NUL character (\\u0000), which cannot be stored."
    return "Contains an unpaired surrogate (\\ud800-\\udfff), which is not valid Unicode text."


def unstorable_fields(value: Any, *, root: str = "") -> dict[str, list[str]]:
    """The dotted paths of keys, strings and numbers in a decoded JSON value that cannot be
    stored, each with its reason."""
    problems: dict[str, list[str]] = {}
    stack: list[tuple[str, Any]] = [(root, value)]
    while stack and len(problems) < _MAX_REPORTED:
        path, item = stack.pop()
        if isinstance(item, str):
            reason = unstorable_reason(item)
            if reason is not None:
                problems[path or "non_field_errors"] = [reason]
        elif isinstance(item, float) and not math.isfinite(item):
            problems[path or "non_field_errors"] = [
                f"{item} is not a JSON number (NaN and Infinity cannot be stored)."
            ]
        elif isinstance(item, dict):
            for key, child in item.items():
                key_text = str(key)
                child_path = f"{path}.{key_text}" if path else key_text
                reason = unstorable_reason(key_text)
                if reason is not None:
                    problems[path or "non_field_errors"] = [
                        f"A key {reason[0].lower()}{reason[1:]}"
                    ]
                    continue
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend(
                (f"{path}.{index}" if path else str(index), child)
                for index, child in enumerate(item)
            )
    return problems


async def refuse_unstorable_text(request: Request) -> None:
    """An app-wide dependency: a JSON body the route parsed must hold only storable text.

    FastAPI parses a route's JSON body before dependencies run and keeps it on the request;
    a body the route did not parse (a stream, a form) is left alone, never read here.
    """
    parsed = getattr(request, "_json", None)
    if parsed is None:
        return
    problems = unstorable_fields(parsed)
    if problems:
        raise ValidationFailed(problems)

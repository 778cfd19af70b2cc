"""The bounded, secret-free `changes` summary of an audit entry.

An entry says which fields changed and, for small scalar values, from what to what. A
field whose name says it holds a secret (credentials, tokens, passwords, webhook headers)
is listed as changed with its values masked; so is a URL's user and password. Large or
nested values are listed without values, id lists are cut to `MAX_IDS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import inspect as sa_inspect

#: Shown instead of a secret.
MASK = "***"
#: A string longer than this is recorded as changed without its values.
MAX_VALUE_LENGTH = 200
#: At most this many fields per entry.
MAX_FIELDS = 50
#: At most this many ids per entry (bulk operations record counts and the first ids).
MAX_IDS = 100

#: Field names that hold secrets, in any service (matched anywhere in the name).
SECRET_NAME = re.compile(
    r"password|secret|token|credential|private|signature|cookie|header|encrypted|"
    r"(^|_)(key|pass|pwd)($|_)|access_key|account_key|sas|connection_string|session",
    re.IGNORECASE,
)
#: `scheme://user:password@host`: the user info goes.
URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def is_secret_field(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def _is_small_scalar(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    return isinstance(value, str) and len(value) <= MAX_VALUE_LENGTH


def _shown(value: Any) -> Any:
    if isinstance(value, str):
        return URL_USERINFO.sub(rf"\g<scheme>{MASK}@", value)
    return value


def field_change(name: str, old: Any, new: Any) -> dict[str, Any]:
    """One field's entry: masked for a secret, values for small scalars, else a flag."""
    if is_secret_field(name):
        return {"old": MASK, "new": MASK}
    if _is_small_scalar(old) and _is_small_scalar(new):
        return {"old": _shown(old), "new": _shown(new)}
    return {"changed": True}


def changes_between(
    before: Mapping[str, Any], after: Mapping[str, Any], *, fields: Iterable[str] | None = None
) -> dict[str, Any]:
    """The fields (of `fields`, or of either side) whose values differ."""
    names = list(fields) if fields is not None else sorted(set(before) | set(after))
    changed: dict[str, Any] = {}
    for name in names:
        old, new = before.get(name), after.get(name)
        if old != new:
            if len(changed) >= MAX_FIELDS:
                changed["_truncated"] = True
                break
            changed[name] = field_change(name, old, new)
    return changed


def values_summary(values: Mapping[str, Any]) -> dict[str, Any]:
    """A created object's fields as the summary shows them (from nothing to the value)."""
    return changes_between({}, {k: v for k, v in values.items() if v is not None})


def bounded_ids(ids: Sequence[int | str], *, total: int | None = None) -> dict[str, Any]:
    """A bulk operation's objects: how many, and the first `MAX_IDS` ids."""
    count = len(ids) if total is None else total
    summary: dict[str, Any] = {"count": count, "ids": [*ids[:MAX_IDS]]}
    if count > MAX_IDS:
        summary["ids_truncated"] = True
    return summary


#: Bookkeeping columns that change on every write and say nothing of the change itself.
BOOKKEEPING = frozenset({"created_at", "updated_at"})


def column_values(obj: Any, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """A mapped object's column values by attribute name (before and after a change, for
    `changes_between`), without the bookkeeping timestamps."""
    skipped = BOOKKEEPING | set(exclude)
    mapper = sa_inspect(obj).mapper
    return {
        attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs if attr.key not in skipped
    }


def mask_secrets(value: Any, *, key: str = "") -> Any:
    """`value` with every secret-named field's value masked, at any depth; the last
    guard before an entry is written, whatever a caller passed."""
    if key and is_secret_field(key) and value not in (None, "", {}, []):
        if isinstance(value, dict) and set(value) <= {"old", "new"}:
            return dict.fromkeys(value, MASK)
        if isinstance(value, dict) and "changed" in value:
            return value
        return MASK
    if isinstance(value, Mapping):
        return {str(k): mask_secrets(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_secrets(v) for v in value[:MAX_IDS]]
    return _shown(value)

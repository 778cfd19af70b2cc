"""Reading what the data manager sends: the vocabulary (prefixes, operators, columns),
one filter item, and the values it compares with. Bad input raises `FilterError`
naming the offending field."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from task_svc.tasks.models import Task


class FilterError(ValueError):
    """A filter, ordering or selection the data manager sent that cannot be applied (a 400)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


_FILTER_PREFIX = "filter:tasks:"


ORDER_PREFIX = "tasks:"


COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "equal": lambda left, right: left == right,
    "less": lambda left, right: left < right,
    "greater": lambda left, right: left > right,
    "less_or_equal": lambda left, right: left <= right,
    "greater_or_equal": lambda left, right: left >= right,
}


_OPERATORS = frozenset(
    {
        *COMPARISONS,
        "not_equal",
        "in",
        "not_in",
        "in_list",
        "not_in_list",
        "contains",
        "not_contains",
        "empty",
        "regex",
    }
)


#: In Label Studio's OpenAPI document but not in its filter engine; named in the error.
_UNIMPLEMENTED_OPERATORS = frozenset({"exists", "not_exists", "starts_with", "ends_with"})


ValueKind = Literal["number", "datetime", "boolean", "string", "bool_text"]


#: Plain task columns a filter or an ordering may name, with how their values are read.
TASK_COLUMNS: dict[str, tuple[Any, ValueKind]] = {
    "id": (Task.id, "number"),
    "inner_id": (Task.inner_id, "number"),
    "total_annotations": (Task.total_annotations, "number"),
    "cancelled_annotations": (Task.cancelled_annotations, "number"),
    "total_predictions": (Task.total_predictions, "number"),
    "predictions_score": (Task.predictions_score, "number"),
    "overlap": (Task.overlap, "number"),
    "file_upload_id": (Task.file_upload_id, "number"),
    "created_at": (Task.created_at, "datetime"),
    "updated_at": (Task.updated_at, "datetime"),
    "completed_at": (Task.completed_at, "datetime"),
    "is_labeled": (Task.is_labeled, "boolean"),
    # Counters `comments.service` keeps on write (partial indexes above zero).
    "comments": (Task.comment_count, "number"),
    "unresolved_comment_count": (Task.unresolved_comment_count, "number"),
    # Counters `reviews.service` keeps on write.
    "reviewed": (Task.reviewed, "boolean"),
    "reviews_accepted": (Task.reviews_accepted, "number"),
    "reviews_rejected": (Task.reviews_rejected, "number"),
}


#: Columns computed from related rows; filterable, not orderable.
RELATED_COLUMNS = frozenset(
    {
        "annotators",
        "assignees",
        "ground_truth",
        "predictions_model_versions",
        "annotations_results",
        "predictions_results",
        "file_upload",
        "reviewers",
        # The stored `task_agreements` row (number operators); orderable too.
        "agreement",
    }
)


#: Columns of Label Studio (or its Enterprise edition) this service has no data for.
UNSUPPORTED_COLUMNS = frozenset(
    # `comment_authors` is shown per page (`comments.authors_by_task`), kept nowhere a
    # filter could use.
    {"comment_authors"}
)


#: A number written as a string ("3", " -1.5e3 "), the only text safely cast to a float.
NUMERIC_TEXT = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"


@dataclass(frozen=True)
class FilterItem:
    """One validated filter item; `path` is where it sits in the request, for errors."""

    path: str
    column: str
    operator: str
    type: str
    value: Any

    def error(self, part: str, reason: str) -> FilterError:
        return FilterError(f"{self.path}.{part}", reason)


def parse_item(raw: dict[str, Any], path: str) -> FilterItem:
    name = raw.get("filter")
    if not isinstance(name, str) or not name:
        raise FilterError(f"{path}.filter", "is required, like 'filter:tasks:<column>'")
    if not name.startswith(_FILTER_PREFIX):
        raise FilterError(f"{path}.filter", f"must start with '{_FILTER_PREFIX}', got '{name}'")
    column = name[len(_FILTER_PREFIX) :]
    _check_column_name(column, f"{path}.filter")
    operator = raw.get("operator")
    if not isinstance(operator, str) or not operator:
        raise FilterError(f"{path}.operator", "is required")
    if operator in _UNIMPLEMENTED_OPERATORS:
        raise FilterError(f"{path}.operator", f"operator '{operator}' is not implemented")
    if operator not in _OPERATORS:
        raise FilterError(f"{path}.operator", f"unknown operator '{operator}'")
    type_ = raw.get("type", "String")
    if type_ is None:
        type_ = "String"
    if not isinstance(type_, str):
        raise FilterError(f"{path}.type", "must be a string such as 'Number' or 'String'")
    return FilterItem(
        path=path,
        column=column,
        operator=operator,
        type=type_,
        value=raw.get("value"),
    )


def _check_column_name(column: str, field: str) -> None:
    if not column:
        raise FilterError(field, "names no column")
    if "__" in column:
        raise FilterError(field, f"'__' is not allowed in a column name ('{column}')")
    if column.startswith("data.") or column == "data":
        data_keys(column, field)
        return
    if column in UNSUPPORTED_COLUMNS:
        raise FilterError(field, f"column '{column}' is not supported by this server")
    if column not in TASK_COLUMNS and column not in RELATED_COLUMNS:
        raise FilterError(field, f"unknown column '{column}'")


def data_keys(column: str, field: str) -> list[str]:
    keys = column.split(".")[1:]
    if not keys or any(not key for key in keys):
        raise FilterError(field, f"'{column}' must name a key, like 'data.text' or 'data.a.b'")
    for key in keys:
        if '"' in key or "\\" in key:
            raise FilterError(
                field, f"quotes and backslashes are not allowed in data keys ('{key}')"
            )
    return keys


def list_member_values(kind: ValueKind, item: FilterItem) -> list[Any]:
    """A List column's value: one element or a list of them (any of which matches)."""
    if item.operator in ("in_list", "not_in_list") or isinstance(item.value, list):
        return parse_list(kind, item)
    return [parse_value(kind, item.value, item, "value")]


def parse_value(kind: ValueKind, value: Any, item: FilterItem, part: str) -> Any:
    if kind == "number":
        return parse_number(value, item, part)
    if kind == "datetime":
        return _parse_datetime(value, item, part)
    if kind == "boolean":
        return parse_bool(value, item, part)
    if kind == "bool_text":
        return "true" if parse_bool(value, item, part) else "false"
    return parse_text(value, item, part)


def parse_number(value: Any, item: FilterItem, part: str) -> int | float:
    if isinstance(value, bool):
        raise item.error(part, "must be a number")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and re.fullmatch(NUMERIC_TEXT, value):
        return int(value) if re.fullmatch(r"\s*[-+]?[0-9]+\s*", value) else float(value)
    raise item.error(part, f"must be a number, got {json.dumps(value, default=str)}")


def _parse_datetime(value: Any, item: FilterItem, part: str) -> datetime:
    """ISO 8601 (Label Studio sends `%Y-%m-%dT%H:%M:%S.%fZ`); naive times are UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            try:
                parsed = datetime.combine(date.fromisoformat(value.strip()), datetime.min.time())
            except ValueError:
                raise item.error(part, f"must be an ISO 8601 datetime, got '{value}'") from None
    else:
        raise item.error(part, "must be an ISO 8601 datetime string")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_bool(value: Any, item: FilterItem, part: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise item.error(part, "must be true or false")


def parse_text(value: Any, item: FilterItem, part: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise item.error(part, "must be a string")


def parse_range(kind: ValueKind, item: FilterItem) -> tuple[Any, Any]:
    value = item.value
    if not isinstance(value, dict) or not ({"min", "max"} & value.keys()):
        raise item.error("value", 'must be an object {"min": ..., "max": ...}')
    if kind in ("boolean", "bool_text"):
        raise item.error("operator", f"operator '{item.operator}' does not apply to a Boolean")
    bounds = [
        None if value.get(end) is None else parse_value(kind, value[end], item, f"value.{end}")
        for end in ("min", "max")
    ]
    if bounds[0] is None and bounds[1] is None:
        raise item.error("value", "needs 'min', 'max' or both")
    return bounds[0], bounds[1]


def parse_list(kind: ValueKind, item: FilterItem) -> list[Any]:
    if not isinstance(item.value, list):
        raise item.error("value", "must be a list")
    return [
        parse_value(kind, element, item, f"value[{index}]")
        for index, element in enumerate(item.value)
    ]


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(text: str) -> str:
    return f"%{escape_like(text)}%"


def ordering_name(key: str) -> tuple[str, bool]:
    """An ordering key without its `-` (returned as descending) and `filter:` prefixes."""
    descending = key.startswith("-")
    name = key[1:] if descending else key
    return name.removeprefix("filter:"), descending

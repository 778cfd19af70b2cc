"""Data-manager filters, ordering and selection compiled to SQLAlchemy expressions.

The data manager sends Label Studio's JSON shapes (CONTRACT.md §6.1); this module turns
them into WHERE / ORDER BY clauses on `tasks` in PostgreSQL's SQL, so the task list,
actions and the label stream all select the same tasks. Bad input raises
`FilterError` naming the offending field, which handlers turn into a 400.

Choices worth knowing: an item with a null value is skipped (Label Studio does the same);
negated operators keep rows where the value is NULL; `annotators`/`predictions_model_versions`
are lists, so `contains`/`equal` mean "has this element"; `regex` is PostgreSQL's `~`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import (
    Float,
    Text,
    and_,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from task_svc.annotations.models import Annotation
from task_svc.fieldindexes.schemas import DataFieldShape
from task_svc.imports.models import FileUpload
from task_svc.predictions.models import Prediction
from task_svc.tasks.models import Task

__all__ = [
    "DataFieldShape",
    "FilterError",
    "annotated_filter",
    "compile_filters",
    "compile_ordering",
    "compile_selected_items",
    "data_field_shape",
]


class FilterError(ValueError):
    """A filter, ordering or selection the data manager sent that cannot be applied (a 400)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# --------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------

_FILTER_PREFIX = "filter:tasks:"
_ORDER_PREFIX = "tasks:"

_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "equal": lambda left, right: left == right,
    "less": lambda left, right: left < right,
    "greater": lambda left, right: left > right,
    "less_or_equal": lambda left, right: left <= right,
    "greater_or_equal": lambda left, right: left >= right,
}
_OPERATORS = frozenset(
    {
        *_COMPARISONS,
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

_Kind = Literal["number", "datetime", "boolean", "string", "bool_text"]

#: Plain task columns a filter or an ordering may name, with how their values are read.
_TASK_COLUMNS: dict[str, tuple[Any, _Kind]] = {
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
}
#: Columns computed from related rows; filterable, not orderable.
_RELATED_COLUMNS = frozenset(
    {
        "annotators",
        "ground_truth",
        "predictions_model_versions",
        "annotations_results",
        "predictions_results",
        "file_upload",
    }
)
#: Columns of Label Studio (or its Enterprise edition) this service has no data for.
_UNSUPPORTED_COLUMNS = frozenset(
    {"comments", "unresolved_comment_count", "reviewed", "agreement", "reviewers"}
)

#: A number written as a string ("3", " -1.5e3 "), the only text safely cast to a float.
_NUMERIC_TEXT = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"


@dataclass(frozen=True)
class _Item:
    """One validated filter item; `path` is where it sits in the request, for errors."""

    path: str
    column: str
    operator: str
    type: str
    value: Any

    def error(self, part: str, reason: str) -> FilterError:
        return FilterError(f"{self.path}.{part}", reason)


# --------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------


def compile_filters(filters: dict[str, Any] | None) -> ColumnElement[bool] | None:
    """The WHERE clause for a data-manager filter group, or None when it filters nothing."""
    if filters is None:
        return None
    if not isinstance(filters, dict):
        raise FilterError("filters", "must be an object with 'conjunction' and 'items'")
    if not filters:
        return None
    return _compile_group(filters, "filters", nested=False)


def _compile_group(group: dict[str, Any], path: str, *, nested: bool) -> ColumnElement[bool] | None:
    conjunction = group.get("conjunction", "and")
    if conjunction not in ("and", "or"):
        raise FilterError(f"{path}.conjunction", "must be 'and' or 'or'")
    items = group.get("items", [])
    if items is None:
        items = []
    if not isinstance(items, list):
        raise FilterError(f"{path}.items", "must be a list of filter items")
    conditions: list[ColumnElement[bool]] = []
    for index, raw in enumerate(items):
        item_path = f"{path}.items[{index}]"
        if isinstance(raw, dict):
            own = raw.get("conjunction")
            if own is not None and own != conjunction:
                raise FilterError(
                    f"{item_path}.conjunction",
                    f"'and' and 'or' cannot be mixed in one list (the list uses '{conjunction}')",
                )
        condition = _compile_item(raw, item_path, nested=nested)
        if condition is not None:
            conditions.append(condition)
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0]
    return and_(*conditions) if conjunction == "and" else or_(*conditions)


def _compile_item(raw: Any, path: str, *, nested: bool) -> ColumnElement[bool] | None:
    """One item, ANDed with its `child_filter` (Label Studio allows one nested level).

    An item whose value is null or absent is skipped, as Label Studio does: the data
    manager sends a filter while the user is still choosing its value.
    """
    if not isinstance(raw, dict):
        raise FilterError(path, "must be an object with 'filter', 'operator', 'type' and 'value'")
    item = _parse_item(raw, path)
    if item.value is None:
        return None
    condition = _item_condition(item)
    child = raw.get("child_filter")
    if child is None:
        return condition
    child_path = f"{path}.child_filter"
    if nested:
        raise FilterError(child_path, "only one level of child_filter is allowed")
    if not isinstance(child, dict):
        raise FilterError(child_path, "must be a filter item")
    if not child:
        return condition
    child_condition: ColumnElement[bool] | None
    if "items" in child:
        child_condition = _compile_group(child, child_path, nested=True)
    else:
        child_condition = _compile_item(child, child_path, nested=True)
    return condition if child_condition is None else and_(condition, child_condition)


def _parse_item(raw: dict[str, Any], path: str) -> _Item:
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
    return _Item(
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
        _data_keys(column, field)
        return
    if column in _UNSUPPORTED_COLUMNS:
        raise FilterError(field, f"column '{column}' is not supported by this server")
    if column not in _TASK_COLUMNS and column not in _RELATED_COLUMNS:
        raise FilterError(field, f"unknown column '{column}'")


def _item_condition(item: _Item) -> ColumnElement[bool]:
    column = item.column
    if column.startswith("data."):
        return _data_condition(item)
    if column in _TASK_COLUMNS:
        expr, kind = _TASK_COLUMNS[column]
        return _scalar_condition(expr, kind, item)
    if column == "annotators":
        return _annotators_condition(item)
    if column == "ground_truth":
        return _ground_truth_condition(item)
    if column == "predictions_model_versions":
        return _model_versions_condition(item)
    if column == "annotations_results":
        return _results_condition(item, Annotation.result, Annotation.task_id)
    if column == "predictions_results":
        return _results_condition(item, Prediction.result, Prediction.task_id)
    if column == "file_upload":
        return _file_upload_condition(item)
    raise item.error("filter", f"unknown column '{column}'")  # pragma: no cover


def _scalar_condition(
    expr: Any, kind: _Kind, item: _Item, *, blank_is_empty: bool = False
) -> ColumnElement[bool]:
    """`expr <operator> value` for a single-valued column; negations keep the NULL rows.

    Keeping NULLs in `not_equal`/`not_in`/`not_contains` matches what a user means by
    "not X" (a task without the field is not X), as Django's exclude() did for Label Studio.
    """
    operator = item.operator
    if operator == "empty":
        is_empty = expr.is_(None)
        if blank_is_empty:
            is_empty = or_(is_empty, expr == "")
            is_set = and_(expr.is_not(None), expr != "")
        else:
            is_set = expr.is_not(None)
        return is_empty if _parse_bool(item.value, item, "value") else is_set
    if operator in _COMPARISONS:
        if kind in ("boolean", "bool_text") and operator != "equal":
            raise item.error("operator", f"operator '{operator}' does not apply to a Boolean")
        return _COMPARISONS[operator](expr, _parse_value(kind, item.value, item, "value"))
    if operator == "not_equal":
        value = _parse_value(kind, item.value, item, "value")
        return or_(expr.is_(None), expr != value)
    if operator in ("in", "not_in"):
        low, high = _parse_range(kind, item)
        bounds = []
        if low is not None:
            bounds.append(expr >= low)
        if high is not None:
            bounds.append(expr <= high)
        inside = and_(*bounds)
        return inside if operator == "in" else or_(expr.is_(None), not_(inside))
    if operator in ("in_list", "not_in_list"):
        values = _parse_list(kind, item)
        listed = _in_values(expr, kind, values)
        return listed if operator == "in_list" else or_(expr.is_(None), not_(listed))
    if kind not in ("string",):
        raise item.error("operator", f"operator '{operator}' needs a text column")
    text = _parse_text(item.value, item, "value")
    if operator in ("contains", "not_contains"):
        found = expr.ilike(_like_pattern(text), escape="\\")
        return found if operator == "contains" else or_(expr.is_(None), not_(found))
    if operator == "regex":
        return _regex(expr, text, item)
    raise item.error("operator", f"unknown operator '{operator}'")  # pragma: no cover


def _in_values(expr: Any, kind: _Kind, values: list[Any]) -> ColumnElement[bool]:
    """IN with ints rendered inline, so a long id list does not hit the bind-parameter limit."""
    if not values:
        return false()
    if kind == "number" and all(isinstance(value, int) for value in values):
        return expr.in_(bindparam(None, values, expanding=True, literal_execute=True))
    return expr.in_(values)


def _regex(expr: Any, pattern: str, item: _Item) -> ColumnElement[bool]:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise item.error("value", f"invalid regular expression: {exc}") from None
    return expr.regexp_match(pattern)


# --- task data (`data.<key>`) ----------------------------------------------------------


def _data_keys(column: str, field: str) -> list[str]:
    keys = column.split(".")[1:]
    if not keys or any(not key for key in keys):
        raise FilterError(field, f"'{column}' must name a key, like 'data.text' or 'data.a.b'")
    for key in keys:
        if '"' in key or "\\" in key:
            raise FilterError(
                field, f"quotes and backslashes are not allowed in data keys ('{key}')"
            )
    return keys


def _data_text(keys: Sequence[str]) -> ColumnElement[Any]:
    """The value at `data.<keys>` as text; NULL when the key is missing or JSON null."""
    return func.jsonb_extract_path_text(Task.data, *keys, type_=Text)


def _data_number(keys: Sequence[str]) -> ColumnElement[Any]:
    """The value at `data.<keys>` as a float: JSON numbers and numeric strings, else NULL.

    Casting arbitrary text would fail, so only text that looks like a number is cast.
    """
    text = _data_text(keys)
    return case((text.regexp_match(_NUMERIC_TEXT), cast(text, Float)), else_=None)


def _data_sort_key(keys: Sequence[str]) -> ColumnElement[Any]:
    """The raw JSON value, so numbers sort as numbers and strings as strings."""
    return func.jsonb_extract_path(Task.data, *keys)


def _data_condition(item: _Item) -> ColumnElement[bool]:
    """Number compares as a float, Boolean as 'true'/'false', everything else as text."""
    keys = _data_keys(item.column, f"{item.path}.filter")
    operator = item.operator
    if operator in ("contains", "not_contains", "regex"):
        return _scalar_condition(_data_text(keys), "string", item)
    if operator == "empty":
        return _scalar_condition(_data_text(keys), "string", item, blank_is_empty=True)
    if item.type == "Number":
        return _scalar_condition(_data_number(keys), "number", item)
    if item.type == "Boolean":
        return _scalar_condition(_data_text(keys), "bool_text", item)
    return _scalar_condition(_data_text(keys), "string", item)


# --- columns computed from annotations and predictions ----------------------------------


def _annotation_exists(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(select(1).where(Annotation.task_id == Task.id, *conditions))


def _prediction_exists(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(select(1).where(Prediction.task_id == Task.id, *conditions))


_POSITIVE_LIST_OPERATORS = frozenset({"equal", "contains", "in_list"})
_NEGATIVE_LIST_OPERATORS = frozenset({"not_equal", "not_contains", "not_in_list"})


def _list_member_values(kind: _Kind, item: _Item) -> list[Any]:
    """A List column's value: one element or a list of them (any of which matches)."""
    if item.operator in ("in_list", "not_in_list") or isinstance(item.value, list):
        return _parse_list(kind, item)
    return [_parse_value(kind, item.value, item, "value")]


def _annotators_condition(item: _Item) -> ColumnElement[bool]:
    """Tasks someone (value = user id) annotated: the list of annotators contains the user."""
    if item.operator == "empty":
        has_any = _annotation_exists(Annotation.completed_by_id.is_not(None))
        return not_(has_any) if _parse_bool(item.value, item, "value") else has_any
    if item.operator not in _POSITIVE_LIST_OPERATORS | _NEGATIVE_LIST_OPERATORS:
        raise item.error("operator", f"operator '{item.operator}' does not apply to annotators")
    user_ids = _list_member_values("number", item)
    for user_id in user_ids:
        if not isinstance(user_id, int):
            raise item.error("value", "must be a user id (an integer)")
    found = _annotation_exists(_in_values(Annotation.completed_by_id, "number", user_ids))
    return found if item.operator in _POSITIVE_LIST_OPERATORS else not_(found)


def _ground_truth_condition(item: _Item) -> ColumnElement[bool]:
    """A task "is ground truth" when one of its annotations is marked so."""
    has_ground_truth = _annotation_exists(Annotation.ground_truth.is_(True))
    if item.operator == "empty":
        empty = _parse_bool(item.value, item, "value")
        return not_(has_ground_truth) if empty else has_ground_truth
    if item.operator not in ("equal", "not_equal"):
        raise item.error("operator", f"operator '{item.operator}' does not apply to a Boolean")
    wanted = _parse_bool(item.value, item, "value")
    if item.operator == "not_equal":
        wanted = not wanted
    return has_ground_truth if wanted else not_(has_ground_truth)


def _model_versions_condition(item: _Item) -> ColumnElement[bool]:
    """Tasks with a prediction of one of the model versions (the list contains the version)."""
    if item.operator == "empty":
        has_any = _prediction_exists(Prediction.model_version != "")
        return not_(has_any) if _parse_bool(item.value, item, "value") else has_any
    if item.operator not in _POSITIVE_LIST_OPERATORS | _NEGATIVE_LIST_OPERATORS:
        raise item.error(
            "operator", f"operator '{item.operator}' does not apply to predictions_model_versions"
        )
    versions = _list_member_values("string", item)
    found = _prediction_exists(Prediction.model_version.in_(versions))
    return found if item.operator in _POSITIVE_LIST_OPERATORS else not_(found)


def _results_condition(item: _Item, result: Any, task_id: Any) -> ColumnElement[bool]:
    """Substring search in the results' JSON text (`empty` = the task has none of them)."""
    rows = exists(select(1).where(task_id == Task.id))
    if item.operator == "empty":
        return not_(rows) if _parse_bool(item.value, item, "value") else rows
    if item.operator not in ("contains", "not_contains"):
        raise item.error("operator", f"operator '{item.operator}' does not apply to {item.column}")
    text = _parse_text(item.value, item, "value")
    result_text = cast(result, Text)
    found = exists(
        select(1).where(
            task_id == Task.id,
            or_(
                *(
                    result_text.ilike(_like_pattern(form), escape="\\")
                    for form in _json_text_forms(text)
                )
            ),
        )
    )
    return found if item.operator == "contains" else not_(found)


def _json_text_forms(text: str) -> list[str]:
    """How `text` can appear inside stored JSON: as typed, and escaped as JSON writes it.

    jsonb prints non-ASCII as is but escapes quotes and backslashes.
    """
    forms = [text, json.dumps(text, ensure_ascii=False)[1:-1]]
    return list(dict.fromkeys(forms))


def _file_upload_condition(item: _Item) -> ColumnElement[bool]:
    """`file_upload` is the uploaded file's name; with type Number it is the upload's id."""
    if item.operator == "empty":
        return _scalar_condition(Task.file_upload_id, "number", item)
    if item.type == "Number":
        return _scalar_condition(Task.file_upload_id, "number", item)
    if item.operator in ("in", "not_in", "less", "greater", "less_or_equal", "greater_or_equal"):
        raise item.error("operator", f"operator '{item.operator}' does not apply to file_upload")
    negated = item.operator in ("not_equal", "not_contains", "not_in_list")
    positive = {"not_equal": "equal", "not_contains": "contains", "not_in_list": "in_list"}
    operator = positive.get(item.operator, item.operator)
    if operator == "equal":
        name = _parse_text(item.value, item, "value")
        matched = _file_name_is(name)
    elif operator == "in_list":
        names = [str(name) for name in _parse_list("string", item)]
        matched = or_(false(), *(_file_name_is(name) for name in names))
    elif operator == "contains":
        name = _parse_text(item.value, item, "value")
        matched = FileUpload.file.ilike(_like_pattern(name), escape="\\")
    else:  # regex
        matched = _regex(FileUpload.file, _parse_text(item.value, item, "value"), item)
    found = exists(select(1).where(FileUpload.id == Task.file_upload_id, matched))
    return not_(found) if negated else found


def _file_name_is(name: str) -> ColumnElement[bool]:
    """The stored path, or its last part (what Label Studio shows as the file name)."""
    return or_(
        FileUpload.file == name, FileUpload.file.like("%/" + _escape_like(name), escape="\\")
    )


# --------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------


def _parse_value(kind: _Kind, value: Any, item: _Item, part: str) -> Any:
    if kind == "number":
        return _parse_number(value, item, part)
    if kind == "datetime":
        return _parse_datetime(value, item, part)
    if kind == "boolean":
        return _parse_bool(value, item, part)
    if kind == "bool_text":
        return "true" if _parse_bool(value, item, part) else "false"
    return _parse_text(value, item, part)


def _parse_number(value: Any, item: _Item, part: str) -> int | float:
    if isinstance(value, bool):
        raise item.error(part, "must be a number")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and re.fullmatch(_NUMERIC_TEXT, value):
        return int(value) if re.fullmatch(r"\s*[-+]?[0-9]+\s*", value) else float(value)
    raise item.error(part, f"must be a number, got {json.dumps(value, default=str)}")


def _parse_datetime(value: Any, item: _Item, part: str) -> datetime:
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


def _parse_bool(value: Any, item: _Item, part: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise item.error(part, "must be true or false")


def _parse_text(value: Any, item: _Item, part: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise item.error(part, "must be a string")


def _parse_range(kind: _Kind, item: _Item) -> tuple[Any, Any]:
    value = item.value
    if not isinstance(value, dict) or not ({"min", "max"} & value.keys()):
        raise item.error("value", 'must be an object {"min": ..., "max": ...}')
    if kind in ("boolean", "bool_text"):
        raise item.error("operator", f"operator '{item.operator}' does not apply to a Boolean")
    bounds = [
        None if value.get(end) is None else _parse_value(kind, value[end], item, f"value.{end}")
        for end in ("min", "max")
    ]
    if bounds[0] is None and bounds[1] is None:
        raise item.error("value", "needs 'min', 'max' or both")
    return bounds[0], bounds[1]


def _parse_list(kind: _Kind, item: _Item) -> list[Any]:
    if not isinstance(item.value, list):
        raise item.error("value", "must be a list")
    return [
        _parse_value(kind, element, item, f"value[{index}]")
        for index, element in enumerate(item.value)
    ]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like_pattern(text: str) -> str:
    return f"%{_escape_like(text)}%"


# --------------------------------------------------------------------------------------
# Ordering
# --------------------------------------------------------------------------------------


def _first_annotator() -> ColumnElement[Any]:
    return (
        select(func.min(Annotation.completed_by_id))
        .where(Annotation.task_id == Task.id)
        .scalar_subquery()
    )


def _has_ground_truth() -> ColumnElement[Any]:
    return case((_annotation_exists(Annotation.ground_truth.is_(True)), 1), else_=0)


def _first_model_version() -> ColumnElement[Any]:
    return (
        select(func.min(Prediction.model_version))
        .where(Prediction.task_id == Task.id)
        .scalar_subquery()
    )


#: Related columns the data manager lets users sort by, each reduced to one sortable value.
_RELATED_SORT_KEYS: dict[str, Callable[[], Any]] = {
    "file_upload": lambda: Task.file_upload_id,
    "annotators": _first_annotator,
    "ground_truth": _has_ground_truth,
    "predictions_model_versions": _first_model_version,
}


def _ordering_name(key: str) -> tuple[str, bool]:
    """An ordering key without its `-` (returned as descending) and `filter:` prefixes."""
    descending = key.startswith("-")
    name = key[1:] if descending else key
    return name.removeprefix("filter:"), descending


def compile_ordering(ordering: list[str] | None) -> list[ColumnElement[Any]]:
    """ORDER BY terms, ending with Task.id so paging is stable when the keys tie.

    NULL sorts as the largest value (last ascending, first descending): PostgreSQL's
    default, so its plain b-tree indexes serve both directions. No NULLS clause is added:
    PostgreSQL only walks an index (forwards or backwards) when the ORDER BY's NULLS
    placement matches it.
    """
    if ordering is None:
        return [Task.id.asc()]
    if not isinstance(ordering, list):
        raise FilterError("ordering", "must be a list of column names")
    terms: list[ColumnElement[Any]] = []
    first_descending: bool | None = None
    has_id = False
    for index, key in enumerate(ordering):
        field = f"ordering[{index}]"
        if not isinstance(key, str) or not key.strip("-"):
            raise FilterError(field, "must be a column name like 'tasks:id' or '-tasks:id'")
        name, descending = _ordering_name(key)
        if not name.startswith(_ORDER_PREFIX):
            raise FilterError(field, f"must start with '{_ORDER_PREFIX}', got '{key}'")
        column = name[len(_ORDER_PREFIX) :]
        if not column:
            raise FilterError(field, "names no column")
        if "__" in column:
            raise FilterError(field, f"'__' is not allowed in a column name ('{column}')")
        expr: Any
        if column.startswith("data.") or column == "data":
            expr = _data_sort_key(_data_keys(column, field))
        elif column in _TASK_COLUMNS:
            expr = _TASK_COLUMNS[column][0]
        elif column in _RELATED_SORT_KEYS:
            expr = _RELATED_SORT_KEYS[column]()
        elif column in _RELATED_COLUMNS or column in _UNSUPPORTED_COLUMNS:
            raise FilterError(field, f"cannot order by '{column}'")
        else:
            raise FilterError(field, f"unknown column '{column}'")
        if first_descending is None:
            first_descending = descending
        if expr is Task.id:
            if has_id:
                continue
            has_id = True
        terms.append(expr.desc() if descending else expr.asc())
    if not has_id:
        terms.append(Task.id.desc() if first_descending else Task.id.asc())
    return terms


# --------------------------------------------------------------------------------------
# Selected items
# --------------------------------------------------------------------------------------


def compile_selected_items(selected: dict[str, Any] | None) -> ColumnElement[bool] | None:
    """The tasks ticked in the data manager; None means all of them."""
    if selected is None:
        return None
    if not isinstance(selected, dict):
        raise FilterError("selectedItems", 'must be an object {"all": ..., ...}')
    if not selected:
        return None
    all_ = selected.get("all")
    if isinstance(all_, str) and all_.lower() in ("true", "false"):
        all_ = all_.lower() == "true"
    if not isinstance(all_, bool):
        raise FilterError("selectedItems", "'all' must be true or false")
    key = "excluded" if all_ else "included"
    other = "included" if all_ else "excluded"
    if selected.get(other):
        raise FilterError("selectedItems", f"'{other}' cannot be used with all={str(all_).lower()}")
    ids = selected.get(key, [])
    if ids is None:
        ids = []
    if not isinstance(ids, list):
        raise FilterError("selectedItems", f"'{key}' must be a list of task ids")
    task_ids: list[int] = []
    for index, task_id in enumerate(ids):
        if isinstance(task_id, str) and task_id.strip().isdigit():
            task_id = int(task_id)
        if isinstance(task_id, bool) or not isinstance(task_id, int):
            raise FilterError("selectedItems", f"'{key}[{index}]' must be a task id (an integer)")
        task_ids.append(task_id)
    if all_:
        if not task_ids:
            return None
        return not_(_in_values(Task.id, "number", task_ids))
    return _in_values(Task.id, "number", task_ids)


# --------------------------------------------------------------------------------------
# Data-field shapes
# --------------------------------------------------------------------------------------


def _applied_items(filters: dict[str, Any] | None) -> list[Any]:
    """The top-level items that filter anything (`_compile_item` skips those without a value)."""
    if not filters:
        return []
    return [
        item
        for item in (filters.get("items") or [])
        if not (isinstance(item, dict) and item.get("value") is None)
    ]


def _plain_item(raw: Any) -> _Item | None:
    """An item parsed as `_compile_item` parses it, or None if it has a child filter."""
    if not isinstance(raw, dict) or raw.get("child_filter"):
        return None
    return _parse_item(raw, "filters.items[0]")


def data_field_shape(
    filters: dict[str, Any] | None, ordering: list[str] | None, selected: dict[str, Any] | None
) -> DataFieldShape | None:
    """The selection's data-field shape, or None when it has another shape.

    Call it on a selection that compiled: it reads the same items the same way, so what
    it accepts is exactly `jsonb_extract_path_text(data, keys) = text` ordered by
    `jsonb_extract_path(data, keys)`, then the task id in the same direction.
    """
    if compile_selected_items(selected) is not None:
        return None
    filter_key, filter_text = "", None
    items = _applied_items(filters)
    if len(items) > 1:
        return None
    if items:
        item = _plain_item(items[0])
        if (
            item is None
            or not item.column.startswith("data.")
            or item.operator != "equal"
            or item.type in ("Number", "Boolean")
        ):
            return None
        filter_key = ".".join(_data_keys(item.column, "filter"))
        filter_text = _parse_text(item.value, item, "value")
    order_key, descending = "", False
    if ordering:
        if len(ordering) > 1 or not isinstance(ordering[0], str):
            return None
        name, descending = _ordering_name(ordering[0])
        column = name[len(_ORDER_PREFIX) :] if name.startswith(_ORDER_PREFIX) else ""
        if not column.startswith("data.") or "__" in column:
            return None
        order_key = ".".join(_data_keys(column, "ordering"))
    if not filter_key and not order_key:
        return None
    return DataFieldShape(
        filter_key=filter_key, filter_text=filter_text, order_key=order_key, descending=descending
    )


# --------------------------------------------------------------------------------------
# Selections the project's counters count
# --------------------------------------------------------------------------------------


def annotated_filter(
    filters: dict[str, Any] | None, selected: dict[str, Any] | None
) -> bool | None:
    """False for a selection that is only "Annotations = 0" (the unlabelled tasks), True
    for only "Annotations > 0" or "!= 0"; None for any other selection.

    The project's counters hold how many tasks have annotations and the annotations'
    total, so such a selection is counted without reading a task (a count of a million
    index entries otherwise, after every annotation).
    """
    if compile_selected_items(selected) is not None:
        return None
    items = _applied_items(filters)
    item = _plain_item(items[0]) if len(items) == 1 else None
    if item is None or item.column != "total_annotations" or item.type != "Number":
        return None
    if _parse_number(item.value, item, "value") != 0:
        return None
    return {"equal": False, "not_equal": True, "greater": True}.get(item.operator)

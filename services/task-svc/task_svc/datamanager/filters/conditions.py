"""Filter items and the ticked tasks as WHERE conditions on `tasks`.

Negated operators keep rows where the value is NULL; `annotators` and
`predictions_model_versions` are lists, so `contains`/`equal` mean "has this element";
`regex` is PostgreSQL's `~`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

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
from task_svc.assignments.models import ANNOTATE, TaskAssignment
from task_svc.datamanager.filters.parsing import (
    COMPARISONS,
    NUMERIC_TEXT,
    TASK_COLUMNS,
    FilterError,
    FilterItem,
    ValueKind,
    data_keys,
    escape_like,
    like_pattern,
    list_member_values,
    parse_bool,
    parse_item,
    parse_list,
    parse_range,
    parse_text,
    parse_value,
)
from task_svc.imports.models import FileUpload
from task_svc.predictions.models import Prediction
from task_svc.reviews.models import AnnotationReview
from task_svc.tasks.models import Task


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
    item = parse_item(raw, path)
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


def _item_condition(item: FilterItem) -> ColumnElement[bool]:
    column = item.column
    if column.startswith("data."):
        return _data_condition(item)
    if column in TASK_COLUMNS:
        expr, kind = TASK_COLUMNS[column]
        return _scalar_condition(expr, kind, item)
    if column == "annotators":
        return _annotators_condition(item)
    if column == "assignees":
        return _assignees_condition(item)
    if column == "ground_truth":
        return _ground_truth_condition(item)
    if column == "reviewers":
        return _reviewers_condition(item)
    if column == "predictions_model_versions":
        return _model_versions_condition(item)
    if column == "annotations_results":
        return _results_condition(item, Annotation.result, Annotation.task_id)
    if column == "predictions_results":
        return _results_condition(item, Prediction.result, Prediction.task_id)
    if column == "file_upload":
        return _file_upload_condition(item)
    if column == "agreement":
        return _agreement_condition(item)
    raise item.error("filter", f"unknown column '{column}'")  # pragma: no cover


def _scalar_condition(
    expr: Any, kind: ValueKind, item: FilterItem, *, blank_is_empty: bool = False
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
        return is_empty if parse_bool(item.value, item, "value") else is_set
    if operator in COMPARISONS:
        if kind in ("boolean", "bool_text") and operator != "equal":
            raise item.error("operator", f"operator '{operator}' does not apply to a Boolean")
        return COMPARISONS[operator](expr, parse_value(kind, item.value, item, "value"))
    if operator == "not_equal":
        value = parse_value(kind, item.value, item, "value")
        return or_(expr.is_(None), expr != value)
    if operator in ("in", "not_in"):
        low, high = parse_range(kind, item)
        bounds = []
        if low is not None:
            bounds.append(expr >= low)
        if high is not None:
            bounds.append(expr <= high)
        inside = and_(*bounds)
        return inside if operator == "in" else or_(expr.is_(None), not_(inside))
    if operator in ("in_list", "not_in_list"):
        values = parse_list(kind, item)
        listed = _in_values(expr, kind, values)
        return listed if operator == "in_list" else or_(expr.is_(None), not_(listed))
    if kind not in ("string",):
        raise item.error("operator", f"operator '{operator}' needs a text column")
    text = parse_text(item.value, item, "value")
    if operator in ("contains", "not_contains"):
        found = expr.ilike(like_pattern(text), escape="\\")
        return found if operator == "contains" else or_(expr.is_(None), not_(found))
    if operator == "regex":
        return _regex(expr, text, item)
    raise item.error("operator", f"unknown operator '{operator}'")  # pragma: no cover


def _in_values(expr: Any, kind: ValueKind, values: list[Any]) -> ColumnElement[bool]:
    """IN with ints rendered inline, so a long id list does not hit the bind-parameter limit."""
    if not values:
        return false()
    if kind == "number" and all(isinstance(value, int) for value in values):
        return expr.in_(bindparam(None, values, expanding=True, literal_execute=True))
    return expr.in_(values)


def _regex(expr: Any, pattern: str, item: FilterItem) -> ColumnElement[bool]:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise item.error("value", f"invalid regular expression: {exc}") from None
    return expr.regexp_match(pattern)


def _data_text(keys: Sequence[str]) -> ColumnElement[Any]:
    """The value at `data.<keys>` as text; NULL when the key is missing or JSON null."""
    return func.jsonb_extract_path_text(Task.data, *keys, type_=Text)


def _data_number(keys: Sequence[str]) -> ColumnElement[Any]:
    """The value at `data.<keys>` as a float: JSON numbers and numeric strings, else NULL.

    Casting arbitrary text would fail, so only text that looks like a number is cast.
    """
    text = _data_text(keys)
    return case((text.regexp_match(NUMERIC_TEXT), cast(text, Float)), else_=None)


def _data_condition(item: FilterItem) -> ColumnElement[bool]:
    """Number compares as a float, Boolean as 'true'/'false', everything else as text."""
    keys = data_keys(item.column, f"{item.path}.filter")
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


def annotation_exists(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(select(1).where(Annotation.task_id == Task.id, *conditions))


def _prediction_exists(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(select(1).where(Prediction.task_id == Task.id, *conditions))


_POSITIVE_LIST_OPERATORS = frozenset({"equal", "contains", "in_list"})


_NEGATIVE_LIST_OPERATORS = frozenset({"not_equal", "not_contains", "not_in_list"})


def _annotators_condition(item: FilterItem) -> ColumnElement[bool]:
    """Tasks someone (value = user id) annotated: the list of annotators contains the user."""
    if item.operator == "empty":
        has_any = annotation_exists(Annotation.completed_by_id.is_not(None))
        return not_(has_any) if parse_bool(item.value, item, "value") else has_any
    if item.operator not in _POSITIVE_LIST_OPERATORS | _NEGATIVE_LIST_OPERATORS:
        raise item.error("operator", f"operator '{item.operator}' does not apply to annotators")
    user_ids = list_member_values("number", item)
    for user_id in user_ids:
        if not isinstance(user_id, int):
            raise item.error("value", "must be a user id (an integer)")
    found = annotation_exists(_in_values(Annotation.completed_by_id, "number", user_ids))
    return found if item.operator in _POSITIVE_LIST_OPERATORS else not_(found)


def _assignees_condition(item: FilterItem) -> ColumnElement[bool]:
    """Tasks assigned to someone (value = user id) to annotate; a probe of the unique
    (task, user, kind) index per task, or a semi-join from the person's queue index."""

    def assigned(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists(
            select(TaskAssignment.id).where(
                TaskAssignment.task_id == Task.id, TaskAssignment.kind == ANNOTATE, *conditions
            )
        )

    if item.operator == "empty":
        has_any = assigned()
        return not_(has_any) if parse_bool(item.value, item, "value") else has_any
    if item.operator not in _POSITIVE_LIST_OPERATORS | _NEGATIVE_LIST_OPERATORS:
        raise item.error("operator", f"operator '{item.operator}' does not apply to assignees")
    user_ids = _user_ids(item)
    found = assigned(_in_values(TaskAssignment.user_id, "number", user_ids))
    return found if item.operator in _POSITIVE_LIST_OPERATORS else not_(found)


def _reviewers_condition(item: FilterItem) -> ColumnElement[bool]:
    """Tasks someone (value = user id) reviewed: a probe of `(task_id, reviewer_id)`."""
    if item.operator == "empty":
        has_any = exists(select(1).where(AnnotationReview.task_id == Task.id))
        return not_(has_any) if parse_bool(item.value, item, "value") else has_any
    if item.operator not in _POSITIVE_LIST_OPERATORS | _NEGATIVE_LIST_OPERATORS:
        raise item.error("operator", f"operator '{item.operator}' does not apply to reviewers")
    user_ids = _user_ids(item)
    found = exists(
        select(1).where(
            AnnotationReview.task_id == Task.id,
            _in_values(AnnotationReview.reviewer_id, "number", user_ids),
        )
    )
    return found if item.operator in _POSITIVE_LIST_OPERATORS else not_(found)


def _user_ids(item: FilterItem) -> list[Any]:
    user_ids = list_member_values("number", item)
    for user_id in user_ids:
        if not isinstance(user_id, int):
            raise item.error("value", "must be a user id (an integer)")
    return user_ids


def _ground_truth_condition(item: FilterItem) -> ColumnElement[bool]:
    """A task "is ground truth" when one of its annotations is marked so."""
    has_ground_truth = annotation_exists(Annotation.ground_truth.is_(True))
    if item.operator == "empty":
        empty = parse_bool(item.value, item, "value")
        return not_(has_ground_truth) if empty else has_ground_truth
    if item.operator not in ("equal", "not_equal"):
        raise item.error("operator", f"operator '{item.operator}' does not apply to a Boolean")
    wanted = parse_bool(item.value, item, "value")
    if item.operator == "not_equal":
        wanted = not wanted
    return has_ground_truth if wanted else not_(has_ground_truth)


def _model_versions_condition(item: FilterItem) -> ColumnElement[bool]:
    """Tasks with a prediction of one of the model versions (the list contains the version)."""
    if item.operator == "empty":
        has_any = _prediction_exists(Prediction.model_version != "")
        return not_(has_any) if parse_bool(item.value, item, "value") else has_any
    if item.operator not in _POSITIVE_LIST_OPERATORS | _NEGATIVE_LIST_OPERATORS:
        raise item.error(
            "operator", f"operator '{item.operator}' does not apply to predictions_model_versions"
        )
    versions = list_member_values("string", item)
    found = _prediction_exists(Prediction.model_version.in_(versions))
    return found if item.operator in _POSITIVE_LIST_OPERATORS else not_(found)


def _results_condition(item: FilterItem, result: Any, task_id: Any) -> ColumnElement[bool]:
    """Substring search in the results' JSON text (`empty` = the task has none of them)."""
    rows = exists(select(1).where(task_id == Task.id))
    if item.operator == "empty":
        return not_(rows) if parse_bool(item.value, item, "value") else rows
    if item.operator not in ("contains", "not_contains"):
        raise item.error("operator", f"operator '{item.operator}' does not apply to {item.column}")
    text = parse_text(item.value, item, "value")
    result_text = cast(result, Text)
    found = exists(
        select(1).where(
            task_id == Task.id,
            or_(
                *(
                    result_text.ilike(like_pattern(form), escape="\\")
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


def _agreement_condition(item: FilterItem) -> ColumnElement[bool]:
    """`agreement` compares the stored score (`Task.agreement`, the copy of
    `task_agreements.agreement`), never the annotations. A task without a score (fewer than
    two annotators) is empty and is "not equal" to any number, like any NULL task column."""
    return _scalar_condition(Task.agreement, "number", item)


def _file_upload_condition(item: FilterItem) -> ColumnElement[bool]:
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
        name = parse_text(item.value, item, "value")
        matched = _file_name_is(name)
    elif operator == "in_list":
        names = [str(name) for name in parse_list("string", item)]
        matched = or_(false(), *(_file_name_is(name) for name in names))
    elif operator == "contains":
        name = parse_text(item.value, item, "value")
        matched = FileUpload.file.ilike(like_pattern(name), escape="\\")
    else:  # regex
        matched = _regex(FileUpload.file, parse_text(item.value, item, "value"), item)
    found = exists(select(1).where(FileUpload.id == Task.file_upload_id, matched))
    return not_(found) if negated else found


def _file_name_is(name: str) -> ColumnElement[bool]:
    """The stored path, or its last part (what Label Studio shows as the file name)."""
    return or_(FileUpload.file == name, FileUpload.file.like("%/" + escape_like(name), escape="\\"))


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

"""Filters the data manager may send but that cannot be applied: each error names the field."""

from __future__ import annotations

from typing import Any

import pytest
from task_svc.datamanager.filters import (
    FilterError,
    compile_filters,
)

from .conftest import (  # type: ignore[import-not-found]
    _at,
    _item,
    _one,
)

# --- errors -------------------------------------------------------------------------------

OK = _item("id", "equal", 1, "Number")

ERROR_CASES: list[tuple[str, Any, str, str]] = [
    ("not-an-object", [OK], "filters", "object"),
    (
        "bad-conjunction",
        {"conjunction": "xor", "items": [OK]},
        "filters.conjunction",
        "'and' or 'or'",
    ),
    ("items-not-list", {"conjunction": "and", "items": OK}, "filters.items", "list"),
    ("item-not-object", {"conjunction": "and", "items": [OK, "id"]}, "filters.items[1]", "object"),
    (
        "missing-filter",
        _one({"operator": "equal", "value": 1}),
        "filters.items[0].filter",
        "required",
    ),
    (
        "wrong-prefix",
        _one({**OK, "filter": "filter:annotations:id"}),
        "filters.items[0].filter",
        "filter:tasks:",
    ),
    (
        "unknown-column",
        _one(_item("nope", "equal", 1)),
        "filters.items[0].filter",
        "unknown column",
    ),
    (
        "double-underscore",
        {"conjunction": "and", "items": [OK, _item("id__gt", "equal", 1)]},
        "filters.items[1].filter",
        "'__'",
    ),
    (
        "double-underscore-in-data",
        _one(_item("data.a__b", "equal", "x")),
        "filters.items[0].filter",
        "'__'",
    ),
    ("data-without-key", _one(_item("data.", "equal", "x")), "filters.items[0].filter", "key"),
    (
        "unsupported-column",
        _one(_item("comment_authors", "equal", 1)),
        "filters.items[0].filter",
        "not supported",
    ),
    (
        "unknown-operator",
        _one(_item("id", "like", 1)),
        "filters.items[0].operator",
        "unknown operator",
    ),
    (
        "unimplemented-operator",
        _one(_item("data.text", "starts_with", "a")),
        "filters.items[0].operator",
        "not implemented",
    ),
    (
        "missing-operator",
        _one({"filter": "filter:tasks:id", "value": 1}),
        "filters.items[0].operator",
        "required",
    ),
    ("bad-type", _one({**OK, "type": 3}), "filters.items[0].type", "string"),
    (
        "number-not-number",
        _one(_item("id", "equal", "abc", "Number")),
        "filters.items[0].value",
        "number",
    ),
    (
        "number-is-bool",
        _one(_item("id", "greater", True, "Number")),
        "filters.items[0].value",
        "number",
    ),
    (
        "range-not-object",
        _one(_item("id", "in", [1, 2], "Number")),
        "filters.items[0].value",
        "min",
    ),
    (
        "range-no-bounds",
        _one(_item("id", "in", {"min": None, "max": None})),
        "filters.items[0].value",
        "min",
    ),
    (
        "range-bad-bound",
        _one(_item("created_at", "in", {"min": "yesterday", "max": _at(1)}, "Datetime")),
        "filters.items[0].value.min",
        "ISO 8601",
    ),
    ("list-not-list", _one(_item("id", "in_list", 1, "Number")), "filters.items[0].value", "list"),
    (
        "list-bad-element",
        _one(_item("id", "in_list", [1, "two"], "Number")),
        "filters.items[0].value[1]",
        "number",
    ),
    (
        "bad-datetime",
        _one(_item("created_at", "less", "soon", "Datetime")),
        "filters.items[0].value",
        "ISO",
    ),
    (
        "bad-boolean",
        _one(_item("is_labeled", "equal", "maybe", "Boolean")),
        "filters.items[0].value",
        "true or false",
    ),
    (
        "bad-empty-flag",
        _one(_item("completed_at", "empty", 3)),
        "filters.items[0].value",
        "true or false",
    ),
    (
        "boolean-less",
        _one(_item("is_labeled", "less", True, "Boolean")),
        "filters.items[0].operator",
        "Boolean",
    ),
    (
        "data-boolean-less",
        _one(_item("data.flag", "less", True, "Boolean")),
        "filters.items[0].operator",
        "Boolean",
    ),
    ("contains-on-number", _one(_item("id", "contains", "1")), "filters.items[0].operator", "text"),
    (
        "text-value-object",
        _one(_item("data.text", "equal", {"a": 1})),
        "filters.items[0].value",
        "string",
    ),
    (
        "annotators-not-id",
        _one(_item("annotators", "contains", "bob", "List")),
        "filters.items[0].value",
        "number",
    ),
    (
        "annotators-float",
        _one(_item("annotators", "contains", 1.5, "List")),
        "filters.items[0].value",
        "user id",
    ),
    (
        "annotators-operator",
        _one(_item("annotators", "less", 1, "List")),
        "filters.items[0].operator",
        "annotators",
    ),
    (
        "ground-truth-operator",
        _one(_item("ground_truth", "contains", True)),
        "filters.items[0].operator",
        "Boolean",
    ),
    (
        "results-operator",
        _one(_item("annotations_results", "equal", "x")),
        "filters.items[0].operator",
        "annotations_results",
    ),
    (
        "mixed-conjunctions",
        {"conjunction": "and", "items": [OK, {**OK, "conjunction": "or"}]},
        "filters.items[1].conjunction",
        "mixed",
    ),
    (
        "child-error-path",
        {
            "conjunction": "and",
            "items": [OK, {**OK, "child_filter": _item("id", "equal", "x", "Number")}],
        },
        "filters.items[1].child_filter.value",
        "number",
    ),
    (
        "child-nested-twice",
        _one({**OK, "child_filter": {**OK, "child_filter": OK}}),
        "filters.items[0].child_filter.child_filter",
        "one level",
    ),
    (
        "child-not-object",
        _one({**OK, "child_filter": "x"}),
        "filters.items[0].child_filter",
        "filter item",
    ),
]


@pytest.mark.parametrize(
    ("filters", "field", "reason"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_filter_errors(filters: Any, field: str, reason: str) -> None:
    with pytest.raises(FilterError) as caught:
        compile_filters(filters)
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert str(caught.value).startswith(field + ": ")

"""Filter items, conjunctions, child filters and ticked tasks compiled to WHERE, against
real PostgreSQL rows.
"""

from __future__ import annotations

from typing import Any

import pytest
from task_svc.datamanager.filters import (
    FilterError,
    compile_filters,
    compile_selected_items,
)

from .conftest import (  # type: ignore[import-not-found]
    ALL_IDS,
    SPECS,
    Db,
    N,
    Predicate,
    _at,
    _filtered_ids,
    _item,
    _meta,
    _n,
    _one,
    _text,
)

# (case id, filter item, which fixture tasks it should select)
CASES: list[tuple[str, dict[str, Any], Predicate]] = [
    # --- plain task columns -----------------------------------------------------------
    ("id-equal", _item("id", "equal", 5, "Number"), lambda s: s.id == 5),
    ("id-equal-string", _item("id", "equal", "5", "Number"), lambda s: s.id == 5),
    ("id-not-equal", _item("id", "not_equal", 5, "Number"), lambda s: s.id != 5),
    ("id-less", _item("id", "less", 4, "Number"), lambda s: s.id < 4),
    ("id-greater", _item("id", "greater", 27, "Number"), lambda s: s.id > 27),
    ("id-less-or-equal", _item("id", "less_or_equal", 4, "Number"), lambda s: s.id <= 4),
    ("id-greater-or-equal", _item("id", "greater_or_equal", 27, "Number"), lambda s: s.id >= 27),
    ("id-in-range", _item("id", "in", {"min": 3, "max": 6}, "Number"), lambda s: 3 <= s.id <= 6),
    (
        "id-not-in-range",
        _item("id", "not_in", {"min": 3, "max": 28}, "Number"),
        lambda s: not 3 <= s.id <= 28,
    ),
    (
        "id-range-open-max",
        _item("id", "in", {"min": 29, "max": None}, "Number"),
        lambda s: s.id >= 29,
    ),
    ("id-in-list", _item("id", "in_list", [1, 2, 99], "Number"), lambda s: s.id in (1, 2)),
    ("id-not-in-list", _item("id", "not_in_list", [1, 2], "Number"), lambda s: s.id not in (1, 2)),
    ("inner-id", _item("inner_id", "greater_or_equal", 28, "Number"), lambda s: s.id >= 28),
    (
        "total-annotations-zero",
        _item("total_annotations", "equal", 0, "Number"),
        lambda s: s.total_annotations == 0,
    ),
    (
        "total-annotations-many",
        _item("total_annotations", "greater", 1, "Number"),
        lambda s: s.total_annotations > 1,
    ),
    (
        "cancelled-annotations",
        _item("cancelled_annotations", "greater", 0, "Number"),
        lambda s: s.cancelled_annotations > 0,
    ),
    (
        "total-predictions",
        _item("total_predictions", "greater_or_equal", 1, "Number"),
        lambda s: len(s.predictions) >= 1,
    ),
    (
        "predictions-score-less",
        _item("predictions_score", "less", 0.15, "Number"),
        lambda s: s.predictions_score is not None and s.predictions_score < 0.15,
    ),
    (
        "predictions-score-empty",
        _item("predictions_score", "empty", True, "Number"),
        lambda s: s.predictions_score is None,
    ),
    ("is-labeled", _item("is_labeled", "equal", "true", "Boolean"), lambda s: s.is_labeled),
    (
        "is-labeled-false",
        _item("is_labeled", "equal", False, "Boolean"),
        lambda s: not s.is_labeled,
    ),
    # --- datetimes ------------------------------------------------------------------------
    (
        "created-greater",
        _item("created_at", "greater", _at(5), "Datetime"),
        lambda s: s.id > 5,
    ),
    (
        "created-greater-or-equal-offset",
        _item("created_at", "greater_or_equal", "2024-01-01T07:00:00+02:00", "Datetime"),
        lambda s: s.id >= 5,
    ),
    (
        "created-in-range",
        _item("created_at", "in", {"min": _at(3), "max": _at(6)}, "Datetime"),
        lambda s: 3 <= s.id <= 6,
    ),
    (
        "created-not-in-range",
        _item("created_at", "not_in", {"min": _at(3), "max": _at(28)}, "Datetime"),
        lambda s: not 3 <= s.id <= 28,
    ),
    ("created-equal", _item("created_at", "equal", _at(7), "Datetime"), lambda s: s.id == 7),
    (
        "updated-less",
        _item("updated_at", "less", _at(3), "Datetime"),
        lambda s: s.id <= 2,
    ),
    (
        "completed-not-empty",  # the legacy SDK's get_labeled_tasks
        _item("completed_at", "empty", False, "Datetime"),
        lambda s: s.completed_at is not None,
    ),
    (
        "completed-empty",
        _item("completed_at", "empty", "true", "Datetime"),
        lambda s: s.completed_at is None,
    ),
    (
        "completed-before",
        _item("completed_at", "less_or_equal", _at(14), "Datetime"),
        lambda s: s.completed_at is not None and s.id <= 12,
    ),
    # --- related rows ---------------------------------------------------------------------
    (
        "annotators-contains",
        _item("annotators", "contains", 10, "List"),
        lambda s: 10 in s.annotators,
    ),
    (
        "annotators-equal-string",
        _item("annotators", "equal", "20", "List"),
        lambda s: 20 in s.annotators,
    ),
    (
        "annotators-in-list",
        _item("annotators", "in_list", [20, 30], "List"),
        lambda s: bool({20, 30} & s.annotators),
    ),
    (
        "annotators-not-contains",
        _item("annotators", "not_contains", 10, "List"),
        lambda s: 10 not in s.annotators,
    ),
    ("annotators-empty", _item("annotators", "empty", True, "List"), lambda s: not s.annotators),
    (
        "annotators-not-empty",
        _item("annotators", "empty", False, "List"),
        lambda s: bool(s.annotators),
    ),
    (
        "ground-truth",
        _item("ground_truth", "equal", True, "Boolean"),
        lambda s: any(a["gt"] for a in s.annotations),
    ),
    (
        "ground-truth-false",
        _item("ground_truth", "equal", "false", "Boolean"),
        lambda s: not any(a["gt"] for a in s.annotations),
    ),
    (
        "ground-truth-not-equal",
        _item("ground_truth", "not_equal", True, "Boolean"),
        lambda s: not any(a["gt"] for a in s.annotations),
    ),
    (
        "model-version-contains",
        _item("predictions_model_versions", "contains", "v2", "List"),
        lambda s: "v2" in s.model_versions,
    ),
    (
        "model-version-in-list",
        _item("predictions_model_versions", "in_list", ["v1", "v2"], "List"),
        lambda s: bool({"v1", "v2"} & s.model_versions),
    ),
    (
        "model-version-not-contains",
        _item("predictions_model_versions", "not_contains", "v1", "List"),
        lambda s: "v1" not in s.model_versions,
    ),
    (
        "model-version-empty",
        _item("predictions_model_versions", "empty", True, "List"),
        lambda s: not (s.model_versions - {""}),
    ),
    (
        "annotations-results-contains",
        _item("annotations_results", "contains", "negative"),
        lambda s: any("Negative" in str(a["result"]) for a in s.annotations),
    ),
    (
        "annotations-results-non-ascii-and-quotes",
        _item("annotations_results", "contains", 'café "noir"'),
        lambda s: s.id == 12,
    ),
    (
        "annotations-results-not-contains",
        _item("annotations_results", "not_contains", "positive"),
        lambda s: not any("Positive" in str(a["result"]) for a in s.annotations),
    ),
    (
        "annotations-results-empty",
        _item("annotations_results", "empty", True),
        lambda s: not s.annotations,
    ),
    (
        "predictions-results-contains",
        _item("predictions_results", "contains", "négatif"),
        lambda s: "v2" in s.model_versions,
    ),
    (
        "predictions-results-not-contains",
        _item("predictions_results", "not_contains", "POSITIVE"),
        lambda s: "v1" not in s.model_versions,
    ),
    (
        "file-upload-contains",
        _item("file_upload", "contains", "CATS"),
        lambda s: s.file_upload_id == 1,
    ),
    (
        "file-upload-contains-percent",
        _item("file_upload", "contains", "_100%"),
        lambda s: s.file_upload_id == 2,
    ),
    (
        "file-upload-equal-name",
        _item("file_upload", "equal", "abcd1234-cats.csv"),
        lambda s: s.file_upload_id == 1,
    ),
    (
        "file-upload-not-contains",
        _item("file_upload", "not_contains", "cats"),
        lambda s: s.file_upload_id != 1,
    ),
    ("file-upload-empty", _item("file_upload", "empty", True), lambda s: s.file_upload_id is None),
    (
        "file-upload-id",
        _item("file_upload", "equal", 2, "Number"),
        lambda s: s.file_upload_id == 2,
    ),
    # --- task data ------------------------------------------------------------------------
    ("data-equal", _item("data.text", "equal", "Dog"), lambda s: _text(s) == "Dog"),
    ("data-not-equal", _item("data.text", "not_equal", "Dog"), lambda s: _text(s) != "Dog"),
    (
        "data-contains-case-insensitive",
        _item("data.text", "contains", "cat"),
        lambda s: "cat" in (_text(s) or "").lower(),
    ),
    (
        "data-not-contains",
        _item("data.text", "not_contains", "CAT"),
        lambda s: "cat" not in (_text(s) or "").lower(),
    ),
    (
        "data-contains-percent",
        _item("data.text", "contains", "0%"),
        lambda s: _text(s) == "100% pure",
    ),
    (
        "data-contains-underscore",
        _item("data.text", "contains", "r_s"),
        lambda s: _text(s) == "under_score",
    ),
    ("data-contains-non-ascii", _item("data.text", "contains", "fé"), lambda s: _text(s) == "café"),
    ("data-empty", _item("data.text", "empty", True), lambda s: not _text(s)),
    ("data-not-empty", _item("data.text", "empty", "false"), lambda s: bool(_text(s))),
    (
        "data-in-list",
        _item("data.text", "in_list", ["Dog", "bird"]),
        lambda s: _text(s) in ("Dog", "bird"),
    ),
    (
        "data-not-in-list",
        _item("data.text", "not_in_list", ["Dog", "bird"]),
        lambda s: _text(s) not in ("Dog", "bird"),
    ),
    (
        "data-number-greater",
        _item("data.n", "greater", 20, "Number"),
        lambda s: (_n(s) or 0) > 20,
    ),
    (
        "data-number-equal-numeric-string",
        _item("data.n", "equal", "7", "Number"),
        lambda s: _n(s) == 7,
    ),
    (
        "data-number-in-range",
        _item("data.n", "in", {"min": 9, "max": 15}, "Number"),
        lambda s: _n(s) is not None and 9 <= _n(s) <= 15,  # type: ignore[operator]
    ),
    (
        "data-number-not-in-range",
        _item("data.n", "not_in", {"min": 2, "max": 28}, "Number"),
        lambda s: _n(s) is None or not 2 <= _n(s) <= 28,  # type: ignore[operator]
    ),
    (
        "data-number-in-list",
        _item("data.n", "in_list", [3, "14", 4.0], "Number"),
        lambda s: _n(s) in (3, 14, 4),
    ),
    (
        "data-number-less-or-equal",
        _item("data.n", "less_or_equal", 3.5, "Number"),
        lambda s: _n(s) is not None and _n(s) <= 3.5,  # type: ignore[operator]
    ),
    (
        "data-number-as-text",
        _item("data.n", "equal", "3", "String"),
        lambda s: s.data.get("n") == 3,
    ),
    ("data-number-empty", _item("data.n", "empty", True, "Number"), lambda s: "n" not in s.data),
    (
        "data-boolean",
        _item("data.flag", "equal", True, "Boolean"),
        lambda s: s.data.get("flag") is True,
    ),
    (
        "data-boolean-not-equal",
        _item("data.flag", "not_equal", "true", "Boolean"),
        lambda s: s.data.get("flag") is not True,
    ),
    (
        "data-nested-equal",
        _item("data.meta.city", "equal", "Paris"),
        lambda s: _meta(s, "city") == "Paris",
    ),
    (
        "data-nested-number",
        _item("data.meta.score", "greater_or_equal", 1.5, "Number"),
        lambda s: (_meta(s, "score") or 0) >= 1.5,
    ),
    (
        "data-nested-empty",
        _item("data.meta.city", "empty", True),
        lambda s: _meta(s, "city") is None,
    ),
]


@pytest.mark.parametrize(("item", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_filter_item(db: Db, item: dict[str, Any], expected: Predicate) -> None:
    want = [spec.id for spec in SPECS if expected(spec)]
    assert 0 < len(want) < N, "a case must tell matching rows from the others"
    assert _filtered_ids(db, _one(item)) == want


def test_literal_ids_for_a_few_cases(db: Db) -> None:
    """Spot checks with spelled-out ids, in case a predicate and the code share a mistake."""
    assert _filtered_ids(db, _one(_item("data.text", "contains", "cat"))) == [1, 3, 11, 13, 21, 23]
    assert _filtered_ids(db, _one(_item("ground_truth", "equal", True, "Boolean"))) == [6, 12]
    assert _filtered_ids(db, _one(_item("annotators", "contains", 30, "List"))) == [12]
    assert _filtered_ids(db, _one(_item("cancelled_annotations", "greater", 0, "Number"))) == [24]
    assert _filtered_ids(db, _one(_item("data.n", "greater", 25, "Number"))) == [26, 27, 28]
    assert _filtered_ids(db, _one(_item("data.text", "empty", True))) == [6, 7, 16, 17, 26, 27]


def test_conjunctions_and_child_filter(db: Db) -> None:
    annotated_by_10 = _item("annotators", "contains", 10, "List")
    flagged = _item("data.flag", "equal", True, "Boolean")
    assert _filtered_ids(db, {"conjunction": "and", "items": [annotated_by_10, flagged]}) == [
        6,
        12,
        18,
    ]
    assert _filtered_ids(
        db,
        {
            "conjunction": "or",
            "items": [_item("id", "equal", 1, "Number"), _item("id", "equal", 30, "Number")],
        },
    ) == [1, 30]
    parent_with_child = {**annotated_by_10, "child_filter": flagged}
    assert _filtered_ids(db, {"conjunction": "or", "items": [parent_with_child]}) == [6, 12, 18]
    assert _filtered_ids(
        db,
        {
            "conjunction": "or",
            "items": [parent_with_child, _item("id", "equal", 1, "Number")],
        },
    ) == [1, 6, 12, 18]


def test_items_without_a_value_are_skipped(db: Db) -> None:
    """The data manager sends a filter before the user picks its value (Label Studio skips it)."""
    unfilled = {"filter": "filter:tasks:data.text", "operator": "contains", "type": "String"}
    assert compile_filters(_one(unfilled)) is None
    assert compile_filters(_one({**unfilled, "value": None})) is None
    both = {"conjunction": "and", "items": [unfilled, _item("id", "less", 3, "Number")]}
    assert _filtered_ids(db, both) == [1, 2]
    # The column and operator are still checked.
    with pytest.raises(FilterError) as caught:
        compile_filters(_one({**unfilled, "filter": "filter:tasks:nope"}))
    assert caught.value.field == "filters.items[0].filter"


@pytest.mark.parametrize("filters", [None, {}, {"conjunction": "and", "items": []}])
def test_no_filters_select_everything(db: Db, filters: Any) -> None:
    assert compile_filters(filters) is None
    assert _filtered_ids(db, filters) == ALL_IDS


def test_regex(db: Db) -> None:
    item = _item("data.text", "regex", "^[a-z]+$")
    want = [s.id for s in SPECS if _text(s) in ("bird", "fish")]  # "é" is not [a-z]
    assert _filtered_ids(db, _one(item)) == want
    with pytest.raises(FilterError) as caught:
        compile_filters(_one(_item("data.text", "regex", "([a-z")))
    assert caught.value.field == "filters.items[0].value"


# --- selected items -----------------------------------------------------------------------


def test_selected_items(db: Db) -> None:
    assert compile_selected_items(None) is None
    assert compile_selected_items({}) is None
    assert compile_selected_items({"all": True, "excluded": []}) is None
    assert _filtered_ids(db, None, {"all": True, "excluded": [1, 2, 99]}) == ALL_IDS[2:]
    assert _filtered_ids(db, None, {"all": False, "included": [5, 3, "7"]}) == [3, 5, 7]
    assert _filtered_ids(db, None, {"all": False, "included": []}) == []
    big = list(range(1, 70_001))  # past PostgreSQL's 65,535 bind parameters
    assert _filtered_ids(db, None, {"all": False, "included": big}) == ALL_IDS
    labeled = _one(_item("is_labeled", "equal", True, "Boolean"))
    assert _filtered_ids(db, labeled, {"all": True, "excluded": [3]}) == [
        s.id for s in SPECS if s.is_labeled and s.id != 3
    ]


@pytest.mark.parametrize(
    "selected",
    [
        [1, 2],
        {"excluded": [1]},
        {"all": "yes", "excluded": [1]},
        {"all": True, "excluded": "1,2"},
        {"all": False, "included": [1, "x"]},
        {"all": False, "included": [True]},
        {"all": False, "included": [1], "excluded": [2]},
    ],
)
def test_selected_items_errors(selected: Any) -> None:
    with pytest.raises(FilterError) as caught:
        compile_selected_items(selected)
    assert caught.value.field == "selectedItems"

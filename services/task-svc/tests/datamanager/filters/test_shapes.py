"""Selections a data-field index or the project's counters answer, recognised from the
data manager's JSON (no database: the shapes are read from the request alone)."""

from __future__ import annotations

from typing import Any

import pytest
from task_svc.datamanager.filters import annotated_filter, data_field_shape
from task_svc.fieldindexes.schemas import DataFieldShape


def _item(column: str, operator: str, value: Any, type_: str = "String") -> dict[str, Any]:
    return {"filter": f"filter:tasks:{column}", "operator": operator, "type": type_, "value": value}


def _filters(*items: dict[str, Any]) -> dict[str, Any]:
    return {"conjunction": "and", "items": list(items)}


def test_one_text_equal_on_a_data_key() -> None:
    shape = data_field_shape(_filters(_item("data.category", "equal", "cat")), None, None)
    assert shape == DataFieldShape(
        filter_key="category", filter_text="cat", order_key="", descending=False
    )


def test_ordering_by_a_nested_data_key() -> None:
    shape = data_field_shape(None, ["-tasks:data.a.b"], None)
    assert shape == DataFieldShape(
        filter_key="", filter_text=None, order_key="a.b", descending=True
    )


def test_filter_and_ordering_together() -> None:
    shape = data_field_shape(_filters(_item("data.k", "equal", 3)), ["tasks:data.k"], {})
    assert shape == DataFieldShape(filter_key="k", filter_text="3", order_key="k", descending=False)


def test_an_item_without_a_value_does_not_count() -> None:
    filters = _filters(_item("data.k", "equal", None), _item("data.c", "equal", "x"))
    assert data_field_shape(filters, None, None) == DataFieldShape(
        filter_key="c", filter_text="x", order_key="", descending=False
    )


@pytest.mark.parametrize(
    ("filters", "ordering", "selected"),
    [
        (None, None, None),
        (_filters(_item("data.k", "equal", 1, "Number")), None, None),
        (_filters(_item("data.k", "equal", "true", "Boolean")), None, None),
        (_filters(_item("data.k", "contains", "x")), None, None),
        (_filters(_item("data.k", "equal", "x"), _item("data.c", "equal", "y")), None, None),
        (_filters(_item("id", "equal", 1, "Number")), None, None),
        (None, ["tasks:id"], None),
        (None, ["tasks:data.a", "tasks:data.b"], None),
        (None, ["tasks:data.k"], {"all": False, "included": [1]}),
    ],
)
def test_other_selections_have_no_data_field_shape(
    filters: Any, ordering: Any, selected: Any
) -> None:
    assert data_field_shape(filters, ordering, selected) is None


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (_item("total_annotations", "equal", 0, "Number"), False),
        (_item("total_annotations", "greater", 0, "Number"), True),
        (_item("total_annotations", "not_equal", "0", "Number"), True),
        (_item("total_annotations", "equal", 1, "Number"), None),
        (_item("total_annotations", "less", 0, "Number"), None),
        (_item("total_predictions", "equal", 0, "Number"), None),
    ],
)
def test_annotated_filter(item: dict[str, Any], expected: bool | None) -> None:
    assert annotated_filter(_filters(item), None) is expected


def test_annotated_filter_with_ticked_tasks_is_none() -> None:
    filters = _filters(_item("total_annotations", "equal", 0, "Number"))
    assert annotated_filter(filters, {"all": True, "excluded": [3]}) is None

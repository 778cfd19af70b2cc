"""Selections of a shape something cheaper than the task list can answer: a data-field
index (`data_field_shape`) or the project's counters (`annotated_filter`)."""

from __future__ import annotations

from typing import Any

from task_svc.datamanager.filters.conditions import compile_selected_items
from task_svc.datamanager.filters.parsing import (
    ORDER_PREFIX,
    FilterItem,
    data_keys,
    ordering_name,
    parse_item,
    parse_number,
    parse_text,
)
from task_svc.fieldindexes.schemas import DataFieldShape


def _applied_items(filters: dict[str, Any] | None) -> list[Any]:
    """The top-level items that filter anything (`conditions._compile_item` skips those
    without a value)."""
    if not filters:
        return []
    return [
        item
        for item in (filters.get("items") or [])
        if not (isinstance(item, dict) and item.get("value") is None)
    ]


def _plain_item(raw: Any) -> FilterItem | None:
    """An item parsed as `conditions._compile_item` parses it, or None if it has a child
    filter."""
    if not isinstance(raw, dict) or raw.get("child_filter"):
        return None
    return parse_item(raw, "filters.items[0]")


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
        filter_key = ".".join(data_keys(item.column, "filter"))
        filter_text = parse_text(item.value, item, "value")
    order_key, descending = "", False
    if ordering:
        if len(ordering) > 1 or not isinstance(ordering[0], str):
            return None
        name, descending = ordering_name(ordering[0])
        column = name[len(ORDER_PREFIX) :] if name.startswith(ORDER_PREFIX) else ""
        if not column.startswith("data.") or "__" in column:
            return None
        order_key = ".".join(data_keys(column, "ordering"))
    if not filter_key and not order_key:
        return None
    return DataFieldShape(
        filter_key=filter_key, filter_text=filter_text, order_key=order_key, descending=descending
    )


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
    if parse_number(item.value, item, "value") != 0:
        return None
    return {"equal": False, "not_equal": True, "greater": True}.get(item.operator)

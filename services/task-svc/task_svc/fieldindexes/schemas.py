"""The selection shape a data-field index answers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataFieldShape:
    """A selection that is at most one String `equal` on a task-data key and at most one
    ordering by a task-data key: what a data-field index can answer exactly.

    Keys are dotted data paths ("category", "a.b"); '' means none. `filter_text` is the
    text the filter compares with, as the data manager's filter compiles it
    (`datamanager.filters.data_field_shape` makes these from a selection).
    """

    filter_key: str
    filter_text: str | None
    order_key: str
    descending: bool

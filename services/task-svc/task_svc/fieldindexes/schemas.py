"""The selection shape a data-field index answers, and a data-field index as served."""

from __future__ import annotations

from dataclasses import dataclass

from labelops_common.http.answers import Timestamp
from pydantic import BaseModel


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


class FieldIndexAnswer(BaseModel):
    """An item of `GET /api/dm/field-indexes` (LabelOps' own, for operators); `entries` is
    counted for ready indexes only, and a key the index does not use is null."""

    id: int
    filter_key: str | None
    order_key: str | None
    state: str
    created_at: Timestamp
    built_at: Timestamp | None
    last_used_at: Timestamp
    entries: int | None

"""Data-field indexes: per-project copies of one task-data key's value, kept in real
columns so a data-manager page filtered and ordered on task data is an index-only scan.

A definition names at most one filter key and one order key (dotted data paths, '' for
none); its entries hold, for every task of the project, the text the String filter
compares and the JSON value the ordering sorts by. `data_field_entry()` (migration 0006)
computes both, and triggers on `tasks` keep them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type, utcnow
from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base, BigId

BUILDING = "building"
READY = "ready"
FAILED = "failed"


class DataFieldIndex(Base):
    __tablename__ = "data_field_indexes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigInteger)
    #: The String-equality filter's data path ("category", "meta.lang"), '' for none.
    filter_key: Mapped[str] = mapped_column(String(255), default="")
    #: The ordering's data path, '' for none ('' rather than NULL keeps the unique key simple).
    order_key: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(16), default=BUILDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When its build was last queued: one that is not ready long after is queued again.
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    built_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index(
            "ix_data_field_indexes_project_id_keys",
            "project_id",
            "filter_key",
            "order_key",
            unique=True,
        ),
    )


class DataFieldEntry(Base):
    """One task's values for one definition; NULLs and `is_exact = false` when a value is
    too large (or an object/array) to sit in a b-tree: the definition is then unusable."""

    __tablename__ = "data_field_entries"

    index_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("data_field_indexes.id", ondelete="CASCADE"), primary_key=True
    )
    task_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    filter_text: Mapped[str | None] = mapped_column(Text, default=None)
    order_value: Mapped[Any] = mapped_column(json_type(), nullable=True, default=None)
    is_exact: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        # Pages: WHERE index_id = ? [AND filter_text = ?] ORDER BY filter_text, order_value,
        # task_id is a walk of this index that never reads the heap.
        Index(
            "ix_data_field_entries_index_id_filter_text",
            "index_id",
            "filter_text",
            "order_value",
            "task_id",
        ),
        # Counts: the same WHERE on keys without the (wide) order values. Its equal keys
        # deduplicate, so it is about 40 times smaller: a count of 100k entries reads 7 MB
        # instead of 280, about 10 ms instead of 30. Every annotation changes the tasks
        # version, so a project being labelled recounts on nearly every list.
        Index("ix_data_field_entries_filter_counts", "index_id", "filter_text"),
        Index(
            "ix_data_field_entries_inexact",
            "index_id",
            postgresql_where=text("NOT is_exact"),
        ),
    )

"""Saved data-manager views (tabs): a filter group, an ordering and a selection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type, utcnow
from sqlalchemy import BigInteger, Index
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base, BigId


class View(Base):
    __tablename__ = "dm_views"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    order: Mapped[int] = mapped_column(default=0)
    #: The view's `data` without `filters`, `ordering` and `selectedItems` (kept apart below).
    data: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    filters: Mapped[dict[str, Any] | None] = mapped_column(json_type(), default=None)
    ordering: Mapped[list[str]] = mapped_column(json_type(), default=list)
    selected_items: Mapped[dict[str, Any] | None] = mapped_column(json_type(), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_dm_views_project_id_order", "project_id", "order", "id"),)

"""One row per state change (Label Studio's `TaskState`, `AnnotationState`, `ProjectState`
in one table, told apart by `entity_name`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from labelops_common.db import json_type
from sqlalchemy import BigInteger, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base


class StateRecord(Base):
    """Append-only. The id is a UUIDv7, so ordering by id is ordering by time (as Label
    Studio's). `project_id` scopes a row to its project's organization, and stays readable
    after the task or annotation it describes is deleted."""

    __tablename__ = "fsm_state_records"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    entity_name: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    project_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(50))
    previous_state: Mapped[str | None] = mapped_column(String(50))
    transition_name: Mapped[str | None] = mapped_column(String(100))
    triggered_by_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)
    context_data: Mapped[dict[str, Any]] = mapped_column(json_type())
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_fsm_state_records_entity", "entity_name", "entity_id", "id"),)

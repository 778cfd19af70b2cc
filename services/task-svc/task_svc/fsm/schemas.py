"""Label Studio's FSM shapes: `StateModel`, its page, and a manual transition's request
and answer (`FSMTransitionExecuteRequest`, `FSMTransitionExecuteResponse`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from labelops_common.http.answers import Page, Timestamp, timestamp
from pydantic import BaseModel, Field


class TriggeredBy(BaseModel):
    id: int
    email: str | None = None


class StateAnswer(BaseModel):
    id: uuid.UUID
    state: str
    previous_state: str | None
    transition_name: str | None
    triggered_by: TriggeredBy | None
    created_at: Timestamp
    reason: str | None
    context_data: dict[str, Any]


StatePage = Page[StateAnswer]


class TransitionRequest(BaseModel):
    transition_name: str = Field(min_length=1, max_length=100)
    transition_data: dict[str, Any] | None = None


class TransitionAnswer(BaseModel):
    success: bool
    new_state: str | None
    state_record: StateAnswer | None


def state_answer(row: Mapping[str, Any], triggered_by: Mapping[str, Any] | None) -> StateAnswer:
    """A state row as Label Studio serialises it; `triggered_by` is the user's object (only
    its id and email are served), or None to leave the user out."""
    user = None
    if triggered_by is not None:
        user = TriggeredBy(id=int(triggered_by["id"]), email=triggered_by.get("email"))
    return StateAnswer(
        id=row["id"],
        state=row["state"],
        previous_state=row["previous_state"],
        transition_name=row["transition_name"],
        triggered_by=user,
        created_at=timestamp(row["created_at"]) or "",
        reason=row["reason"],
        context_data=row["context_data"] or {},
    )

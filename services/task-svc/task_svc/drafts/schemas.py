"""Draft request bodies and Label Studio's draft shape (`AnnotationDraftSerializer`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from labelops_common.http.answers import Timestamp, time_ago, timestamp
from pydantic import BaseModel, ConfigDict, Field, field_validator

from task_svc.drafts.models import Draft


class DraftAnswer(BaseModel):
    """A draft inside a task (Label Studio's `AnnotationDraft`)."""

    id: int
    result: list[dict[str, Any]]
    lead_time: float | None
    task: int
    annotation: int | None
    user: int
    was_postponed: bool
    import_id: int | None
    created_at: Timestamp
    updated_at: Timestamp


class DraftDetailAnswer(DraftAnswer):
    """A draft on its own routes: with its author and age (`AnnotationDraftSerializer`)."""

    created_username: str
    created_ago: str


def draft_fields(draft: Draft) -> dict[str, Any]:
    return {
        "id": draft.id,
        "result": draft.result,
        "lead_time": draft.lead_time,
        "task": draft.task_id,
        "annotation": draft.annotation_id,
        "user": draft.user_id,
        "was_postponed": draft.was_postponed,
        "import_id": draft.import_id,
        "created_at": timestamp(draft.created_at),
        "updated_at": timestamp(draft.updated_at),
    }


def _result_list(value: Any) -> Any:
    """Label Studio accepts `result` as a list of regions or as a JSON string of one."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError("Must be a list of regions or a JSON string of one.") from None
    if value is None:
        return []
    return value


class DraftCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    result: list[dict[str, Any]] = Field(default_factory=list)
    lead_time: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    was_postponed: bool = False

    _parse_result = field_validator("result", mode="before")(_result_list)


class DraftUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    result: list[dict[str, Any]] | None = None
    lead_time: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    was_postponed: bool | None = None

    _parse_result = field_validator("result", mode="before")(_result_list)


def draft_response(draft: Draft, *, email: str, now: datetime | None = None) -> dict[str, Any]:
    """A draft as Label Studio shows it; only its author ever sees it, so `email` is theirs."""
    return {
        **draft_fields(draft),
        "created_username": f"{email}, {draft.user_id}" if email else f"{draft.user_id}",
        "created_ago": time_ago(draft.created_at, now),
    }

"""Annotation request bodies: Label Studio accepts `result` as a list or as a JSON string."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _result_list(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError("Must be a list of regions or a JSON string of one.") from None
    return value


class AnnotationCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    result: list[dict[str, Any]] = Field(default_factory=list)
    was_cancelled: bool = False
    ground_truth: bool = False
    lead_time: float | None = None
    completed_by: int | None = None
    draft_id: int | None = None
    parent_prediction: int | None = None
    parent_annotation: int | None = None
    unique_id: str | None = Field(default=None, max_length=64)

    _parse_result = field_validator("result", mode="before")(_result_list)


class AnnotationUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    result: list[dict[str, Any]] | None = None
    was_cancelled: bool | None = None
    ground_truth: bool | None = None
    lead_time: float | None = None

    _parse_result = field_validator("result", mode="before")(_result_list)

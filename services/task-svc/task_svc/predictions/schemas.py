"""Prediction request bodies."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from task_svc.annotations.schemas import _result_list


class PredictionCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    task: int
    result: list[dict[str, Any]] = Field(default_factory=list)
    score: float | None = None
    model_version: str = Field(default="", max_length=255)

    _parse_result = field_validator("result", mode="before")(_result_list)


class PredictionUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    result: list[dict[str, Any]] | None = None
    score: float | None = None
    model_version: str | None = Field(default=None, max_length=255)

    _parse_result = field_validator("result", mode="before")(_result_list)

"""Prediction request bodies and Label Studio's prediction shape."""

from __future__ import annotations

from typing import Any

from labelops_common.http.answers import Timestamp, timestamp
from pydantic import BaseModel, ConfigDict, Field, field_validator

from task_svc.annotations.schemas import _result_list
from task_svc.predictions.models import Prediction


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


class PredictionReplace(BaseModel):
    """`PUT /api/predictions/{id}/`: the whole prediction; what is left out takes its default.

    `task` may be sent (Label Studio's serializer carries it) but must be the prediction's own.
    """

    model_config = ConfigDict(extra="ignore")

    task: int | None = None
    result: list[dict[str, Any]]
    score: float | None = None
    model_version: str = Field(default="", max_length=255)

    _parse_result = field_validator("result", mode="before")(_result_list)

    def as_update(self) -> PredictionUpdate:
        return PredictionUpdate(
            result=self.result, score=self.score, model_version=self.model_version
        )


class PredictionAnswer(BaseModel):
    """A prediction as Label Studio serializes it (the model-run links are always null here)."""

    id: int
    task: int
    project: int
    result: list[dict[str, Any]]
    score: float | None
    model_version: str
    model: int | None
    model_run: int | None
    cluster: int | None
    neighbors: Any
    mislabeling: float
    created_at: Timestamp
    updated_at: Timestamp


def prediction_fields(prediction: Prediction) -> dict[str, Any]:
    return {
        "id": prediction.id,
        "task": prediction.task_id,
        "project": prediction.project_id,
        "result": prediction.result,
        "score": prediction.score,
        "model_version": prediction.model_version,
        "model": None,
        "model_run": None,
        "cluster": None,
        "neighbors": None,
        "mislabeling": prediction.mislabeling,
        "created_at": timestamp(prediction.created_at),
        "updated_at": timestamp(prediction.updated_at),
    }

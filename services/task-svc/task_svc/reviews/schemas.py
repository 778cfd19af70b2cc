"""Annotation review bodies and answers, in Label Studio Enterprise's field names
(`/api/annotation-reviews/`)."""

from __future__ import annotations

from typing import Any, Literal

from labelops_common.http.answers import Timestamp, timestamp
from pydantic import BaseModel, ConfigDict, Field, field_validator

from task_svc.annotations.schemas import AuthoredAnnotationAnswer, _result_list
from task_svc.reviews.models import AnnotationReview
from task_svc.tasks.schemas import TaskAnswer


class ReviewCreate(BaseModel):
    """Accept (`accepted: true`), reject with a reason (`accepted: false`, `comment`), or
    fix and accept (`accepted: true` with the corrected `result`)."""

    model_config = ConfigDict(extra="ignore")

    annotation: int
    accepted: bool
    comment: str | None = Field(default=None, max_length=10_000)
    result: list[dict[str, Any]] | None = None
    #: Label Studio Enterprise's choice of what a rejection does; here a rejected task
    #: always goes back to its annotator (`requeue`).
    reject_action: Literal["requeue"] | None = None

    _parse_result = field_validator("result", mode="before")(_result_list)


class ReviewUpdate(BaseModel):
    """Change a verdict; `result: null` takes a fix back (the annotator's result returns)."""

    model_config = ConfigDict(extra="ignore")

    accepted: bool | None = None
    comment: str | None = Field(default=None, max_length=10_000)
    result: list[dict[str, Any]] | None = None

    _parse_result = field_validator("result", mode="before")(_result_list)


class ReviewAnswer(BaseModel):
    """One review. `result` is the reviewer's fix (None for a plain verdict) and
    `previous_annotation_history_result` the annotator's result it replaced."""

    id: int
    annotation: int
    task: int
    project: int
    accepted: bool
    comment: str | None
    result: list[dict[str, Any]] | None
    previous_annotation_history_result: list[dict[str, Any]] | None
    previous_annotation_history: int | None
    fixed_annotation_history: int | None
    created_by: int
    annotator: int | None
    created_at: Timestamp
    updated_at: Timestamp


def review_fields(review: AnnotationReview) -> dict[str, Any]:
    return {
        "id": review.id,
        "annotation": review.annotation_id,
        "task": review.task_id,
        "project": review.project_id,
        "accepted": review.accepted,
        "comment": review.comment,
        "result": review.result,
        "previous_annotation_history_result": review.previous_result,
        # LSE names the annotation versions before and after a fix; here both are kept on
        # this review itself (`previous_annotation_history_result`, `result`).
        "previous_annotation_history": review.id if review.result is not None else None,
        "fixed_annotation_history": review.id if review.result is not None else None,
        "created_by": review.reviewer_id,
        "annotator": review.annotator_id,
        "created_at": timestamp(review.created_at),
        "updated_at": timestamp(review.updated_at),
    }


class NextReviewAnswer(BaseModel):
    """The review stream's next annotation: it, its task, and its earlier reviews."""

    annotation: AuthoredAnnotationAnswer
    task: TaskAnswer
    history: list[ReviewAnswer]
    #: The annotation is held for the caller until then (other reviewers get others).
    lock_expires_at: Timestamp

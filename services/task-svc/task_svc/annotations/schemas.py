"""Annotation request bodies (Label Studio accepts `result` as a list or as a JSON string)
and Label Studio's annotation shape."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from labelops_common.directory import PersonAnswer, UserObject
from labelops_common.http.answers import Timestamp, time_ago, timestamp
from pydantic import BaseModel, ConfigDict, Field, field_validator

from task_svc.annotations.models import Annotation


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


class AnnotationAnswer(BaseModel):
    """An annotation as Label Studio serializes it; `result` holds the editor's regions."""

    id: int
    result: list[dict[str, Any]]
    task: int
    project: int
    completed_by: int | None
    updated_by: int | None
    was_cancelled: bool
    ground_truth: bool
    created_at: Timestamp
    updated_at: Timestamp
    draft_created_at: Timestamp | None
    lead_time: float | None
    parent_prediction: int | None
    parent_annotation: int | None
    import_id: int | None
    last_action: str | None
    last_created_by: int | None
    bulk_created: bool
    unique_id: str | None
    #: The newest review's verdict: `accepted`, `rejected`, `fixed_and_accepted`, or None.
    review_status: str | None = None
    #: The newest review's comment (a rejection's reason).
    review_comment: str | None = None


class AuthoredAnnotationAnswer(AnnotationAnswer):
    """`/api/annotations/{id}/` and `/api/tasks/{id}/annotations/`: with the author named as
    Label Studio names them, `created_username` ("First Last email, id") and
    `created_ago`; `?expand=completed_by` makes `completed_by` the author's object."""

    completed_by: int | PersonAnswer | None  # type: ignore[assignment]
    created_username: str
    created_ago: str


def annotation_fields(annotation: Annotation) -> dict[str, Any]:
    return {
        "id": annotation.id,
        "result": annotation.result,
        "task": annotation.task_id,
        "project": annotation.project_id,
        "completed_by": annotation.completed_by_id,
        "updated_by": annotation.updated_by_id,
        "was_cancelled": annotation.was_cancelled,
        "ground_truth": annotation.ground_truth,
        "created_at": timestamp(annotation.created_at),
        "updated_at": timestamp(annotation.updated_at),
        "draft_created_at": timestamp(annotation.draft_created_at),
        "lead_time": annotation.lead_time,
        "parent_prediction": annotation.parent_prediction_id,
        "parent_annotation": annotation.parent_annotation_id,
        "import_id": annotation.import_id,
        "last_action": annotation.last_action,
        "last_created_by": None,
        "bulk_created": annotation.bulk_created,
        "unique_id": annotation.unique_id,
    }


def with_review(annotation: Annotation) -> dict[str, Any]:
    """`annotation_fields` and the newest review's verdict, where the people who label
    and review read annotations (the API, the label stream); exports and webhooks carry
    Label Studio's fields alone."""
    return {
        **annotation_fields(annotation),
        "review_status": annotation.review_status,
        "review_comment": annotation.review_comment,
    }


class LabelBulkUpdate(BaseModel):
    """`POST /api/labels/bulk`: rewrite a label in saved annotations."""

    model_config = ConfigDict(extra="ignore")

    project: int | None = None
    old_label: Any = Field(description='A region value under its type, e.g. ["Car"].')
    new_label: Any


class LabelBulkUpdateAnswer(BaseModel):
    annotations_updated: int


def created_username(author: UserObject | None) -> str:
    """Label Studio's `created_username`: the first name, the last name if any, then
    " email, id" (so " ann@example.com, 7" for a user without a name)."""
    if not author:
        return ""
    if author.get("email") is None:  # project-svc could not name the user
        return str(author["id"])
    name = author.get("first_name") or ""
    if author.get("last_name"):
        name += " " + author["last_name"]
    return f"{name} {author['email']}, {author['id']}"


def with_author(
    annotation: Annotation, author: UserObject | None, *, expand: bool, now: datetime
) -> dict[str, Any]:
    """An annotation's fields with its author's, as Label Studio's serializer adds them."""
    answer = with_review(annotation)
    answer["created_username"] = created_username(author)
    answer["created_ago"] = time_ago(annotation.created_at, now)
    if expand and author is not None:
        answer["completed_by"] = author
    return answer

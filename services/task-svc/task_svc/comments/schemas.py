"""Comment bodies and Label Studio Enterprise's comment shape (`/api/comments/`)."""

from __future__ import annotations

from typing import Any

from labelops_common.directory import PersonAnswer
from labelops_common.http.answers import Timestamp, timestamp
from pydantic import BaseModel, ConfigDict, Field

from task_svc.comments.models import Comment

#: Long enough for a paragraph of feedback; a comment is not a document.
MAX_TEXT_LENGTH = 10_000


class CommentCreate(BaseModel):
    """A comment on an annotation (its task follows) or, from the labeling page, on a task."""

    model_config = ConfigDict(extra="ignore")

    text: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)
    task: int | None = None
    annotation: int | None = None
    region_ref: dict[str, Any] | None = None
    is_resolved: bool = False


class CommentUpdate(BaseModel):
    """`text` and `region_ref` are the author's to change; `is_resolved` anyone's who sees it."""

    model_config = ConfigDict(extra="ignore")

    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT_LENGTH)
    region_ref: dict[str, Any] | None = None
    is_resolved: bool | None = None


class CommentAnswer(BaseModel):
    id: int
    text: str
    project: int
    task: int
    annotation: int | None
    draft: None = None
    region_ref: dict[str, Any] | None
    #: The author's id, or (`expand_created_by=true`) the author.
    created_by: int | PersonAnswer
    created_at: Timestamp
    updated_at: Timestamp
    is_resolved: bool
    resolved_at: Timestamp | None


class CommentPage(BaseModel):
    """`?page=` asked: Label Studio's page envelope."""

    count: int
    next: str | None
    previous: str | None
    results: list[CommentAnswer]


def comment_fields(comment: Comment, author: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": comment.id,
        "text": comment.text,
        "project": comment.project_id,
        "task": comment.task_id,
        "annotation": comment.annotation_id,
        "draft": None,
        "region_ref": comment.region_ref,
        "created_by": author if author is not None else comment.created_by_id,
        "created_at": timestamp(comment.created_at),
        "updated_at": timestamp(comment.updated_at),
        "is_resolved": comment.is_resolved,
        "resolved_at": timestamp(comment.resolved_at),
    }

"""Request and response shapes of `/api/labels` and `/api/label_links` (Label Studio's)."""

from __future__ import annotations

from typing import Any

from labelops_common.http.answers import Timestamp
from pydantic import BaseModel, ConfigDict, Field

from project_svc.labels.models import Label, LabelLink


class LabelCreate(BaseModel):
    """One item of `POST /api/labels/` (a list: every item for the same project)."""

    model_config = ConfigDict(extra="ignore")

    project: int
    from_name: str = Field(min_length=1, max_length=2048)
    value: Any = Field(description="The label as a result value, e.g. {'labels': ['Car']}.")
    title: str = Field(min_length=1, max_length=2048)
    description: str | None = None
    approved: bool = False
    approved_by: int | None = None


class LabelUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    value: Any = None
    title: str | None = Field(default=None, min_length=1, max_length=2048)
    description: str | None = None
    approved: bool | None = None
    approved_by: int | None = None


class LabelAnswer(BaseModel):
    id: int
    created_at: Timestamp
    updated_at: Timestamp
    created_by: int | None
    organization: int
    value: Any
    title: str
    description: str | None
    approved: bool
    approved_by: int | None
    links: list[int]
    projects: list[int]


class LabelCreatedAnswer(BaseModel):
    """An item of `POST /api/labels/`'s answer (Label Studio's `LabelCreate`)."""

    id: int
    created_at: Timestamp
    updated_at: Timestamp
    created_by: int | None
    organization: int
    project: int
    from_name: str
    value: Any
    title: str
    description: str | None
    approved: bool
    approved_by: int | None
    projects: list[int]


class LabelBulkUpdate(BaseModel):
    """`POST /api/labels/bulk`: rewrite a label in saved annotations (task-svc serves it)."""

    model_config = ConfigDict(extra="ignore")

    project: int | None = None
    old_label: Any
    new_label: Any


class LabelLinkCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    project: int
    label: int
    from_name: str = Field(min_length=1, max_length=2048)


class LabelLinkUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    project: int | None = None
    label: int | None = None
    from_name: str | None = Field(default=None, min_length=1, max_length=2048)


class LabelLinkAnswer(BaseModel):
    """`annotations_count`: the project's annotations whose result holds the label's value
    (Label Studio's count); null when task-svc, which keeps annotations, cannot answer."""

    id: int
    annotations_count: int | None
    from_name: str
    project: int
    label: int


def label_response(label: Label, links: list[LabelLink]) -> LabelAnswer:
    return LabelAnswer(
        id=label.id,
        created_at=label.created_at.isoformat(),
        updated_at=label.updated_at.isoformat(),
        created_by=label.created_by_id,
        organization=label.organization_id,
        value=label.value,
        title=label.title,
        description=label.description,
        approved=label.approved,
        approved_by=label.approved_by_id,
        links=[link.id for link in links],
        projects=sorted({link.project_id for link in links}),
    )


def created_response(label: Label, link: LabelLink, projects: list[int]) -> LabelCreatedAnswer:
    return LabelCreatedAnswer(
        id=label.id,
        created_at=label.created_at.isoformat(),
        updated_at=label.updated_at.isoformat(),
        created_by=label.created_by_id,
        organization=label.organization_id,
        project=link.project_id,
        from_name=link.from_name,
        value=label.value,
        title=label.title,
        description=label.description,
        approved=label.approved,
        approved_by=label.approved_by_id,
        projects=projects,
    )


def link_response(link: LabelLink, annotations_count: int | None) -> LabelLinkAnswer:
    return LabelLinkAnswer(
        id=link.id,
        annotations_count=annotations_count,
        from_name=link.from_name,
        project=link.project_id,
        label=link.label_id,
    )

"""Label Studio's label library: an organization's labels, linked to projects' controls."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type, utcnow
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from project_svc.db import Base


class Label(Base):
    """A label value (e.g. `{"labels": ["Car"]}`) kept once per organization by title."""

    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("organization_id", "title", name="uq_labels_org_title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(default=None)
    value: Mapped[Any] = mapped_column(json_type())
    title: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    approved: Mapped[bool] = mapped_column(default=False)
    approved_by_id: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LabelLink(Base):
    """A label offered by one control (`from_name`) of one project."""

    __tablename__ = "label_links"
    __table_args__ = (
        UniqueConstraint("project_id", "label_id", name="uq_label_links_project_label"),
        Index("ix_label_links_label_id", "label_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id", ondelete="CASCADE"))
    from_name: Mapped[str] = mapped_column(String(2048))

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type, utcnow
from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from project_svc.db import Base


class Project(Base):
    """A labeling project with Label Studio's fields; counters live in task-svc."""

    __tablename__ = "projects"
    __table_args__ = (Index("ix_projects_org_created", "organization_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    title: Mapped[str] = mapped_column(String(50), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    label_config: Mapped[str] = mapped_column(Text, default="<View></View>")
    parsed_label_config: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    expert_instruction: Mapped[str] = mapped_column(Text, default="")
    show_instruction: Mapped[bool] = mapped_column(default=False)
    show_skip_button: Mapped[bool] = mapped_column(default=True)
    enable_empty_annotation: Mapped[bool] = mapped_column(default=True)
    show_annotation_history: Mapped[bool] = mapped_column(default=False)
    #: Off: an annotator sees only their own annotations (independent labels for overlap
    #: and agreement); on: every annotation of the tasks they see. Not in Label Studio.
    annotators_see_others_annotations: Mapped[bool] = mapped_column(default=False)
    color: Mapped[str] = mapped_column(String(16), default="#FFFFFF")
    maximum_annotations: Mapped[int] = mapped_column(default=1)
    is_published: Mapped[bool] = mapped_column(default=False)
    is_draft: Mapped[bool] = mapped_column(default=False)
    model_version: Mapped[str] = mapped_column(Text, default="")
    min_annotations_to_start_training: Mapped[int] = mapped_column(default=0)
    show_collab_predictions: Mapped[bool] = mapped_column(default=True)
    sampling: Mapped[str] = mapped_column(String(64), default="Sequential sampling")
    skip_queue: Mapped[str] = mapped_column(String(64), default="REQUEUE_FOR_OTHERS")
    show_ground_truth_first: Mapped[bool] = mapped_column(default=False)
    show_overlap_first: Mapped[bool] = mapped_column(default=False)
    overlap_cohort_percentage: Mapped[int] = mapped_column(default=100)
    #: Label Studio Enterprise's name: tasks whose agreement is below it need review.
    agreement_threshold: Mapped[float | None] = mapped_column(nullable=True, default=None)
    #: Boxes and polygons with the same label match at this IoU or more.
    agreement_iou_threshold: Mapped[float] = mapped_column(default=0.5, server_default=text("0.5"))
    annotator_evaluation_enabled: Mapped[bool] = mapped_column(default=False)
    evaluate_predictions_automatically: Mapped[bool] = mapped_column(default=False)
    reveal_preannotations_interactively: Mapped[bool] = mapped_column(default=False)
    task_data_login: Mapped[str | None] = mapped_column(String(256), nullable=True)
    task_data_password: Mapped[str | None] = mapped_column(String(256), nullable=True)
    control_weights: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    #: Label Studio Enterprise's `assignment_settings` (see `schemas.AssignmentSettings`).
    label_stream_task_distribution: Mapped[str] = mapped_column(
        String(32), default="auto_distribution"
    )
    max_tasks_per_person: Mapped[int | None] = mapped_column(nullable=True, default=None)
    reservation_timeout_seconds: Mapped[int | None] = mapped_column(nullable=True, default=None)
    pinned_at: Mapped[datetime | None] = mapped_column(nullable=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

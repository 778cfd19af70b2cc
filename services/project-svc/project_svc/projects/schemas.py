"""Request and response shapes of the projects API, with Label Studio's field rules.

Unknown fields are ignored (clients written for Label Studio Enterprise send more);
known fields of the wrong type are a 400 naming the field.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from labelops_common.http.answers import Timestamp
from pydantic import BaseModel, ConfigDict, Field, field_validator

from project_svc.projects.counts import COUNT_FIELDS


class Sampling(StrEnum):
    SEQUENTIAL = "Sequential sampling"
    UNIFORM = "Uniform sampling"
    UNCERTAINTY = "Uncertainty sampling"


class SkipQueue(StrEnum):
    REQUEUE_FOR_OTHERS = "REQUEUE_FOR_OTHERS"
    REQUEUE_FOR_ME = "REQUEUE_FOR_ME"
    IGNORE_SKIPPED = "IGNORE_SKIPPED"


class TaskDistribution(StrEnum):
    AUTO = "auto_distribution"
    ASSIGNED_ONLY = "assigned_only"


class AssignmentSettingsFields(BaseModel):
    """Label Studio Enterprise's `assignment_settings`, with LabelOps' two additions: a cap
    on the open tasks one person holds (per kind; null: none) and how long the label stream
    keeps a task it handed out reserved for that person (null: the server's default)."""

    model_config = ConfigDict(extra="ignore")

    label_stream_task_distribution: TaskDistribution | None = None
    max_tasks_per_person: int | None = Field(default=None, ge=1, le=10_000_000)
    reservation_timeout_seconds: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)


class AssignmentSettingsAnswer(BaseModel):
    label_stream_task_distribution: TaskDistribution
    max_tasks_per_person: int | None
    reservation_timeout_seconds: int | None


class ProjectFields(BaseModel):
    """Every writable project field; all optional, as on Label Studio's create and PATCH."""

    model_config = ConfigDict(extra="ignore")

    title: str | None = Field(default=None, max_length=50)
    description: str | None = None
    label_config: str | None = None
    expert_instruction: str | None = None
    show_instruction: bool | None = None
    show_skip_button: bool | None = None
    enable_empty_annotation: bool | None = None
    show_annotation_history: bool | None = None
    annotators_see_others_annotations: bool | None = None
    color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$")
    maximum_annotations: int | None = Field(default=None, ge=1)
    is_published: bool | None = None
    is_draft: bool | None = None
    model_version: str | None = None
    min_annotations_to_start_training: int | None = Field(default=None, ge=0)
    start_training_on_annotation_update: bool | None = None
    show_collab_predictions: bool | None = None
    sampling: Sampling | None = None
    skip_queue: SkipQueue | None = None
    show_ground_truth_first: bool | None = None
    show_overlap_first: bool | None = None
    overlap_cohort_percentage: int | None = Field(default=None, ge=1, le=100)
    agreement_threshold: float | None = Field(default=None, ge=0, le=1)
    agreement_iou_threshold: float | None = Field(default=None, gt=0, le=1)
    annotator_evaluation_enabled: bool | None = None
    evaluate_predictions_automatically: bool | None = None
    reveal_preannotations_interactively: bool | None = None
    task_data_login: str | None = None
    task_data_password: str | None = None
    control_weights: dict[str, Any] | None = None
    pinned_at: datetime | None = None
    assignment_settings: AssignmentSettingsFields | None = None

    @field_validator("title")
    @classmethod
    def _title_length(cls, value: str | None) -> str | None:
        if value is not None and value != "" and len(value) < 3:
            raise ValueError("Ensure this field has at least 3 characters.")
        return value


class LabelConfigBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    label_config: str


class CreatorAnswer(BaseModel):
    """The project's creator, as Label Studio's `UserSimple`."""

    id: int
    first_name: str
    last_name: str
    email: str
    avatar: str | None


class ParsedInput(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    value: str


class ParsedControl(BaseModel):
    """One control tag of `parsed_label_config` (an open object in Label Studio)."""

    model_config = ConfigDict(extra="allow")

    type: str
    to_name: list[str]
    inputs: list[ParsedInput]
    labels: list[str]
    labels_attrs: dict[str, dict[str, str]]


class ProjectCountsAnswer(BaseModel):
    """The counters task-svc keeps; null when task-svc has none yet. `?include=` on the
    project list keeps only the named ones, so they may be absent there."""

    task_number: int | None = None
    finished_task_number: int | None = None
    total_predictions_number: int | None = None
    total_annotations_number: int | None = None
    num_tasks_with_annotations: int | None = None
    useful_annotation_number: int | None = None
    ground_truth_number: int | None = None
    skipped_annotations_number: int | None = None


class ProjectCountsRow(ProjectCountsAnswer):
    """`GET /api/projects/counts`: a project's id and its counters."""

    id: int


class ProjectAnswer(ProjectCountsAnswer):
    """A project as Label Studio serializes it. The task-data password is never returned."""

    id: int
    title: str
    description: str
    label_config: str
    expert_instruction: str
    show_instruction: bool
    show_skip_button: bool
    enable_empty_annotation: bool
    show_annotation_history: bool
    annotators_see_others_annotations: bool
    organization: int
    color: str
    maximum_annotations: int
    is_published: bool
    is_draft: bool
    model_version: str
    created_by: CreatorAnswer | None
    created_at: Timestamp
    updated_at: Timestamp
    min_annotations_to_start_training: int
    start_training_on_annotation_update: bool
    show_collab_predictions: bool
    sampling: Sampling
    skip_queue: SkipQueue
    show_ground_truth_first: bool
    show_overlap_first: bool
    overlap_cohort_percentage: int
    agreement_threshold: float | None
    agreement_iou_threshold: float
    annotator_evaluation_enabled: bool
    evaluate_predictions_automatically: bool
    reveal_preannotations_interactively: bool
    task_data_login: str | None
    task_data_password: None
    control_weights: dict[str, Any]
    parsed_label_config: dict[str, ParsedControl]
    config_has_control_tags: bool
    config_suitable_for_bulk_annotation: bool
    pinned_at: Timestamp | None
    assignment_settings: AssignmentSettingsAnswer
    queue_total: int | None
    queue_done: int | None


class ConfigValidationAnswer(BaseModel):
    """`POST /api/projects/{id}/validate`."""

    config_essential_data_has_changed: bool


def project_response(
    project: Any, *, counts: dict[str, Any], created_by: CreatorAnswer | None
) -> ProjectAnswer:
    """`counts` holds the counters to serve (all of `COUNT_FIELDS`, or those asked for)."""
    parsed = project.parsed_label_config or {}
    return ProjectAnswer(
        id=project.id,
        title=project.title,
        description=project.description,
        label_config=project.label_config,
        expert_instruction=project.expert_instruction,
        show_instruction=project.show_instruction,
        show_skip_button=project.show_skip_button,
        enable_empty_annotation=project.enable_empty_annotation,
        show_annotation_history=project.show_annotation_history,
        annotators_see_others_annotations=project.annotators_see_others_annotations,
        organization=project.organization_id,
        color=project.color,
        maximum_annotations=project.maximum_annotations,
        is_published=project.is_published,
        is_draft=project.is_draft,
        model_version=project.model_version,
        created_by=created_by,
        created_at=project.created_at.isoformat(),
        updated_at=project.updated_at.isoformat(),
        min_annotations_to_start_training=project.min_annotations_to_start_training,
        start_training_on_annotation_update=project.min_annotations_to_start_training > 0,
        show_collab_predictions=project.show_collab_predictions,
        sampling=Sampling(project.sampling),
        skip_queue=SkipQueue(project.skip_queue),
        show_ground_truth_first=project.show_ground_truth_first,
        show_overlap_first=project.show_overlap_first,
        overlap_cohort_percentage=project.overlap_cohort_percentage,
        agreement_threshold=project.agreement_threshold,
        agreement_iou_threshold=project.agreement_iou_threshold,
        annotator_evaluation_enabled=project.annotator_evaluation_enabled,
        evaluate_predictions_automatically=project.evaluate_predictions_automatically,
        reveal_preannotations_interactively=project.reveal_preannotations_interactively,
        task_data_login=project.task_data_login,
        task_data_password=None,
        control_weights=project.control_weights or {},
        parsed_label_config={
            name: ParsedControl.model_validate(control) for name, control in parsed.items()
        },
        config_has_control_tags=bool(parsed),
        config_suitable_for_bulk_annotation=_suitable_for_bulk(parsed),
        pinned_at=project.pinned_at.isoformat() if project.pinned_at else None,
        assignment_settings=AssignmentSettingsAnswer(
            label_stream_task_distribution=TaskDistribution(project.label_stream_task_distribution),
            max_tasks_per_person=project.max_tasks_per_person,
            reservation_timeout_seconds=project.reservation_timeout_seconds,
        ),
        **{name: counts[name] for name in COUNT_FIELDS if name in counts},
        queue_total=counts.get("task_number"),
        queue_done=counts.get("finished_task_number"),
    )


def _suitable_for_bulk(parsed: dict[str, Any]) -> bool:
    return bool(parsed) and all(
        control.get("type") in {"Choices", "Taxonomy"} for control in parsed.values()
    )

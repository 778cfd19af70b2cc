"""Answers of the agreement endpoints."""

from __future__ import annotations

from pydantic import BaseModel

from task_svc.tasks.schemas import LabelDistribution


class PairAgreement(BaseModel):
    annotator_a: int
    annotator_b: int
    score: float
    #: Control name → that control's score for the pair.
    controls: dict[str, float]


class TaskAgreementAnswer(BaseModel):
    """`GET /api/tasks/{id}/agreement/`: Label Studio's label distribution (its Summary
    view; `average` and `count` only for numeric controls) with the task's agreement: the
    mean over annotator pairs (null below two annotators), each pair's score, and per
    control the mean over pairs."""

    total_annotations: int
    distributions: dict[str, LabelDistribution]
    agreement: float | None
    needs_review: bool
    annotators_count: int
    controls: dict[str, float]
    pairs: list[PairAgreement]


class ControlAlpha(BaseModel):
    control: str
    alpha: float | None
    #: Tasks with two or more answers for the control.
    tasks: int


class AnnotatorPairMean(BaseModel):
    annotator_a: int
    annotator_b: int
    agreement: float
    tasks: int


class AnnotatorMean(BaseModel):
    annotator: int
    agreement: float
    tasks: int


class ProjectAgreementAnswer(BaseModel):
    """`GET /api/projects/{id}/agreement/`: the mean task agreement, how many tasks are
    below the threshold, Krippendorff's alpha over the choices controls, and the means per
    annotator pair and per annotator."""

    project: int
    agreement: float | None
    tasks_with_agreement: int
    tasks_needing_review: int
    agreement_threshold: float | None
    krippendorff_alpha: float | None
    krippendorff_alpha_per_control: list[ControlAlpha]
    pairs: list[AnnotatorPairMean]
    annotators: list[AnnotatorMean]

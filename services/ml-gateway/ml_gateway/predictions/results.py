"""Reading a `/predict` answer: one entry per task, each checked against the labeling config.

The protocol's answer is `{"results": [...]}` (or a bare list), one entry per task in the
order sent; an entry is `{"result": [...], "score"?, "model_version"?}` or a list of such
(several predictions of one task). Entries without `result` are dropped, as Label Studio
drops them. A result that does not fit the project's labeling config, a score that is not
a finite number, or an answer of the wrong length fails its task(s) with the reason:
nothing invalid reaches task-svc.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from labelops_common.directory import ProjectInfo
from labelops_common.labelconfig import validate_result

#: The longest model version task-svc stores.
MAX_MODEL_VERSION = 255


class MalformedAnswer(ValueError):
    """The whole answer is unusable (wrong shape or length)."""


@dataclass(frozen=True)
class ModelPrediction:
    result: list[Any]
    score: float | None
    model_version: str


@dataclass
class TaskOutcome:
    task_id: int
    predictions: list[ModelPrediction] = field(default_factory=list)
    error: str | None = None
    #: The call was not made because the backend's circuit is open: `error` names the
    #: circuit, not the failure that opened it.
    circuit_open: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def answer_items(answer: Any, *, expected: int) -> list[Any]:
    """The per-task entries of an answer; MalformedAnswer if the shape or length is wrong."""
    items = answer.get("results") if isinstance(answer, dict) else answer
    if not isinstance(items, list):
        raise MalformedAnswer('the answer has no "results" list')
    if len(items) != expected:
        raise MalformedAnswer(f"the answer has {len(items)} results for {expected} tasks")
    return items


def read_entry(
    task_id: int, entry: Any, *, project: ProjectInfo, default_version: str
) -> TaskOutcome:
    """One task's entry, checked; the outcome names the first problem if any."""
    outcome = TaskOutcome(task_id=task_id)
    candidates = entry if isinstance(entry, list) else [entry]
    for index, candidate in enumerate(candidates):
        where = f"results[{index}]" if isinstance(entry, list) else "result"
        if not isinstance(candidate, dict):
            outcome.error = f"task {task_id}: {where} is not an object"
            return outcome
        if "result" not in candidate:
            continue
        problem = _problem(candidate, project=project)
        if problem:
            outcome.error = f"task {task_id}: {problem}"
            outcome.predictions = []
            return outcome
        score = candidate.get("score")
        version = candidate.get("model_version") or default_version
        outcome.predictions.append(
            ModelPrediction(
                result=candidate["result"],
                score=float(score) if score is not None else None,
                model_version=str(version)[:MAX_MODEL_VERSION],
            )
        )
    # An entry without a result is the backend's "nothing to say" (an untrained model does
    # this): no prediction and no failure, as in Label Studio.
    return outcome


def _problem(candidate: dict[str, Any], *, project: ProjectInfo) -> str | None:
    result = candidate["result"]
    if isinstance(result, dict):
        candidate["result"] = result = [result]
    if not isinstance(result, list):
        return "result is not a list of regions"
    if project.config is not None:
        problems = validate_result(project.config, result)
        if problems:
            return f"does not fit the labeling config: {problems[0]}"
    score = candidate.get("score")
    if score is not None and (
        isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score)
    ):
        return "score is not a finite number"
    version = candidate.get("model_version")
    if version is not None and not isinstance(version, str | int | float):
        return "model_version is not text"
    try:
        json.dumps(result, allow_nan=False)
    except ValueError:
        return "result holds NaN or Infinity"
    return None


def read_answer(
    answer: Any, *, task_ids: Sequence[int], project: ProjectInfo, default_version: str
) -> list[TaskOutcome]:
    items = answer_items(answer, expected=len(task_ids))
    return [
        read_entry(task_id, entry, project=project, default_version=default_version)
        for task_id, entry in zip(task_ids, items, strict=True)
    ]

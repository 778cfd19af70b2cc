"""Project counters come from task-svc, which keeps them on write; never counted here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

#: Label Studio's count fields, in its order.
COUNT_FIELDS: tuple[str, ...] = (
    "task_number",
    "finished_task_number",
    "total_predictions_number",
    "total_annotations_number",
    "num_tasks_with_annotations",
    "useful_annotation_number",
    "ground_truth_number",
    "skipped_annotations_number",
)

#: Fetches counters for many projects at once: `{project_id: {field: value}}`.
CountsFetcher = Callable[[Sequence[int]], dict[int, dict[str, int]]]


def empty_counts() -> dict[str, Any]:
    return dict.fromkeys(COUNT_FIELDS)

"""Reading project counters (writers update them in the same transaction as the change)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from task_svc.counts.models import ProjectCounters

COUNTER_FIELDS: tuple[str, ...] = (
    "task_number",
    "finished_task_number",
    "total_annotations_number",
    "skipped_annotations_number",
    "ground_truth_number",
    "useful_annotation_number",
    "num_tasks_with_annotations",
    "total_predictions_number",
)


def get_project_counts(
    session: Session, *, project_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Counters per project; a project with no row yet has every counter at zero."""
    counts = {project_id: dict.fromkeys(COUNTER_FIELDS, 0) for project_id in project_ids}
    if not project_ids:
        return counts
    rows = session.scalars(
        select(ProjectCounters).where(ProjectCounters.project_id.in_(list(project_ids)))
    )
    for row in rows:
        counts[row.project_id] = {name: getattr(row, name) for name in COUNTER_FIELDS}
    return counts


def forget_project(session: Session, *, project_id: int) -> int:
    """Drop a deleted project's counters; returns how many rows went."""
    result = session.execute(
        delete(ProjectCounters).where(ProjectCounters.project_id == project_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)

"""Keeping a task's counters, and its project's, right after each annotation or prediction write.

The writer locks the task row, recounts that one task's annotations (a handful of rows,
by index) and applies the differences to the project's counters in the same transaction,
so concurrent annotators on one task can neither double-count nor lose a count.
"""

from __future__ import annotations

from datetime import datetime

from labelops_common.directory import ProjectInfo
from sqlalchemy import case, distinct, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from task_svc.annotations.models import Annotation
from task_svc.counts import service as counts
from task_svc.predictions.models import Prediction
from task_svc.tasks.models import Task


def lock_task(session: Session, task_id: int) -> Task | None:
    """The task, locked until commit (SELECT ... FOR UPDATE; the read is current)."""
    return session.scalars(
        select(Task)
        .where(Task.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def refresh_annotation_counters(
    session: Session,
    task: Task,
    project: ProjectInfo,
    *,
    ground_truth_delta: int = 0,
    updated_at: datetime | None = None,
) -> None:
    """Recount the task's annotations; store its counters (and `updated_at`, if given)."""
    session.flush()
    # Table columns, not the mapped class: a plain SELECT skips the ORM's statement handling.
    columns = Annotation.__table__.c
    finished = ~columns.was_cancelled
    if project.skip_queue == "IGNORE_SKIPPED":
        finished = finished | columns.was_cancelled
    row = session.execute(
        select(
            func.count().filter(~columns.was_cancelled),
            func.count().filter(columns.was_cancelled),
            func.count(distinct(columns.completed_by_id)).filter(finished),
            func.max(columns.created_at).filter(finished),
        ).where(columns.task_id == task.id)
    ).one()
    total, cancelled, annotators, newest = int(row[0]), int(row[1]), int(row[2]), row[3]
    is_labeled = annotators >= max(task.overlap, 1)
    completed_at: datetime | None = newest if is_labeled else None
    counts.bump(
        session,
        project_id=task.project_id,
        total_annotations_number=total - task.total_annotations,
        useful_annotation_number=total - task.total_annotations,
        skipped_annotations_number=cancelled - task.cancelled_annotations,
        num_tasks_with_annotations=int(total > 0) - int(task.total_annotations > 0),
        finished_task_number=int(is_labeled) - int(task.is_labeled),
        ground_truth_number=ground_truth_delta,
    )
    values: dict[str, object] = {
        "total_annotations": total,
        "cancelled_annotations": cancelled,
        "is_labeled": is_labeled,
        "completed_at": completed_at,
    }
    if updated_at is not None:
        values["updated_at"] = updated_at
    _store(session, task, values)


def _store(session: Session, task: Task, values: dict[str, object]) -> None:
    """One table-level UPDATE of the task's columns; the loaded task gets the same values
    without being marked changed, so the commit's flush writes nothing more for it."""
    table = Task.__table__
    session.execute(update(table).where(table.c.id == task.id).values(values))  # type: ignore[arg-type]
    for name, value in values.items():
        set_committed_value(task, name, value)


def refresh_prediction_counters(session: Session, task: Task) -> None:
    session.flush()
    row = session.execute(
        select(func.count(), func.avg(Prediction.score)).where(Prediction.task_id == task.id)
    ).one()
    total = int(row[0])
    counts.bump(
        session,
        project_id=task.project_id,
        total_predictions_number=total - task.total_predictions,
    )
    task.total_predictions = total
    task.predictions_score = float(row[1]) if row[1] is not None else None


def forget_tasks(session: Session, *, project_id: int, task_filter: object) -> int:
    """Subtract the counters of the tasks about to be deleted; returns how many there are."""
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Task.total_annotations), 0),
            func.coalesce(func.sum(Task.cancelled_annotations), 0),
            func.coalesce(func.sum(Task.total_predictions), 0),
            func.count().filter(Task.is_labeled),
            func.count().filter(Task.total_annotations > 0),
        ).where(Task.project_id == project_id, task_filter)  # type: ignore[arg-type]
    ).one()
    tasks, annotations, cancelled, predictions, labeled, with_annotations = (int(v) for v in row)
    ground_truth = session.scalar(
        select(func.count())
        .select_from(Annotation)
        .join(Task, Task.id == Annotation.task_id)
        .where(Task.project_id == project_id, task_filter, Annotation.ground_truth)  # type: ignore[arg-type]
    )
    counts.bump(
        session,
        project_id=project_id,
        task_number=-tasks,
        total_annotations_number=-annotations,
        useful_annotation_number=-annotations,
        skipped_annotations_number=-cancelled,
        total_predictions_number=-predictions,
        finished_task_number=-labeled,
        num_tasks_with_annotations=-with_annotations,
        ground_truth_number=-int(ground_truth or 0),
    )
    return tasks


def apply_overlap(session: Session, *, project_id: int, overlap: int, skip_queue: str) -> int:
    """Give every task of the project a new overlap and recompute `is_labeled` to match.

    Label Studio recomputes this when `maximum_annotations` changes; only tasks with at
    least one annotation can change state, so the recount touches those (by index) alone.
    Returns the project's finished-task number afterwards.
    """
    overlap = max(overlap, 1)
    finished = ~Annotation.was_cancelled
    if skip_queue == "IGNORE_SKIPPED":
        finished = finished | Annotation.was_cancelled
    annotators = (
        select(func.count(distinct(Annotation.completed_by_id)))
        .where(Annotation.task_id == Task.id, finished)
        .scalar_subquery()
    )
    newest = (
        select(func.max(Annotation.created_at))
        .where(Annotation.task_id == Task.id, finished)
        .scalar_subquery()
    )
    session.execute(
        update(Task)
        .where(Task.project_id == project_id, Task.overlap != overlap)
        .values(overlap=overlap)
        .execution_options(synchronize_session=False)
    )
    annotated = (Task.total_annotations > 0) | (Task.cancelled_annotations > 0)
    session.execute(
        update(Task)
        .where(Task.project_id == project_id, annotated)
        .values(
            is_labeled=annotators >= overlap,
            completed_at=case((annotators >= overlap, newest), else_=None),
        )
        .execution_options(synchronize_session=False)
    )
    labeled = int(
        session.scalar(select(func.count()).where(Task.project_id == project_id, Task.is_labeled))
        or 0
    )
    current = counts.get_project_counts(session, project_ids=[project_id])[project_id]
    counts.bump(
        session,
        project_id=project_id,
        finished_task_number=labeled - current["finished_task_number"],
    )
    return labeled

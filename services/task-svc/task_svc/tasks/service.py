"""Tasks: create, read, update, delete. Callers commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import ValidationFailed
from labelops_common.labelconfig import substitute_undefined_key, validate_task_data
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from task_svc.annotations.models import Annotation
from task_svc.counts import service as counts
from task_svc.drafts.models import Draft
from task_svc.events import publisher
from task_svc.fieldindexes import service as fieldindexes
from task_svc.fsm import records as fsm
from task_svc.predictions.models import Prediction
from task_svc.tasks.models import Task


def checked_data(project: ProjectInfo, data: Any, *, field: str = "data") -> dict[str, Any]:
    """Task data as Label Studio accepts it: a dict holding every key the config needs."""
    if not isinstance(data, dict):
        raise ValidationFailed({field: ["Must be a JSON object."]})
    if project.config is None:
        return data
    data = substitute_undefined_key(project.config, data)
    problems = validate_task_data(project.config, data)
    if problems:
        raise ValidationFailed({field: problems})
    return data


def create_task(
    session: Session,
    *,
    project: ProjectInfo,
    data: dict[str, Any],
    meta: dict[str, Any] | None,
    user_id: int | None,
) -> Task:
    first = counts.reserve_inner_ids(session, project_id=project.id, count=1)
    now = utcnow()
    task = Task(
        project_id=project.id,
        inner_id=first,
        data=checked_data(project, data),
        meta=meta or {},
        created_at=now,
        updated_at=now,
        updated_by_id=user_id,
        overlap=counts.task_overlap(first, project),
        fsm_state=fsm.CREATED,
    )
    session.add(task)
    counts.bump(session, project_id=project.id, task_number=1)
    session.flush()
    fsm.record(
        session,
        entity_name=fsm.TASK,
        entity_id=task.id,
        project_id=project.id,
        transition=fsm.TRANSITIONS[fsm.TASK]["task_created"],
        previous_state=None,
        triggered_by=user_id,
        context={"data_keys": list(task.data)},
    )
    publisher.publish_after_commit(
        session,
        publisher.TASKS_CREATED,
        project_id=project.id,
        payload=publisher.tasks_payload(task_count=1, task_ids=[task.id]),
    )
    return task


def update_task(
    session: Session,
    *,
    task: Task,
    project: ProjectInfo,
    data: dict[str, Any] | None,
    meta: dict[str, Any] | None,
    user_id: int,
) -> Task:
    if data is not None:
        task.data = checked_data(project, data)
    if meta is not None:
        task.meta = meta
    task.updated_at = utcnow()
    task.updated_by_id = user_id
    counts.touch(session, project_id=task.project_id)
    session.flush()
    return task


def delete_tasks(session: Session, *, project_id: int, task_ids: Sequence[int] | None) -> int:
    """Delete some (or, with None, all) of a project's tasks, keeping counters right."""
    task_filter = Task.id.in_(list(task_ids)) if task_ids is not None else Task.id.is_not(None)
    deleted = counts.forget_tasks(session, project_id=project_id, task_filter=task_filter)
    scope = select(Task.id).where(Task.project_id == project_id, task_filter)
    # Children first, explicitly, rather than through ON DELETE CASCADE: this keeps one plan.
    for child in (Draft, Annotation, Prediction):
        session.execute(delete(child).where(child.task_id.in_(scope)))
    session.execute(delete(Task).where(Task.project_id == project_id, task_filter))
    if task_ids is None or not has_tasks(session, project_id=project_id):
        fieldindexes.delete_project_definitions(session, project_id=project_id)
    if deleted:
        publisher.publish_after_commit(
            session,
            publisher.TASKS_DELETED,
            project_id=project_id,
            payload=publisher.tasks_payload(
                task_count=deleted, task_ids=list(task_ids) if task_ids is not None else None
            ),
        )
    return deleted


def has_tasks(session: Session, *, project_id: int) -> bool:
    return session.scalar(select(Task.id).where(Task.project_id == project_id).limit(1)) is not None


def related(
    session: Session,
    task_ids: Sequence[int],
    *,
    user_id: int | None = None,
    annotations_by: int | None = None,
) -> tuple[dict[int, list[Annotation]], dict[int, list[Prediction]], dict[int, list[Draft]]]:
    """Annotations (only `annotations_by`'s if given: `access.annotations_visible_to`),
    predictions and (the user's, if given) drafts of many tasks in 3 queries."""
    annotations: dict[int, list[Annotation]] = {task_id: [] for task_id in task_ids}
    predictions: dict[int, list[Prediction]] = {task_id: [] for task_id in task_ids}
    drafts: dict[int, list[Draft]] = {task_id: [] for task_id in task_ids}
    if not task_ids:
        return annotations, predictions, drafts
    ids = list(task_ids)
    annotation_query = select(Annotation).where(Annotation.task_id.in_(ids))
    if annotations_by is not None:
        annotation_query = annotation_query.where(Annotation.completed_by_id == annotations_by)
    for annotation in session.scalars(annotation_query.order_by(Annotation.id)):
        annotations[annotation.task_id].append(annotation)
    for prediction in session.scalars(
        select(Prediction).where(Prediction.task_id.in_(ids)).order_by(Prediction.id)
    ):
        predictions[prediction.task_id].append(prediction)
    draft_query = select(Draft).where(Draft.task_id.in_(ids))
    if user_id is not None:
        draft_query = draft_query.where(Draft.user_id == user_id)
    for draft in session.scalars(draft_query.order_by(Draft.id)):
        drafts[draft.task_id].append(draft)
    return annotations, predictions, drafts


def _merge_distribution(distributions: dict[str, dict[str, Any]], result: Any) -> None:
    """One result's regions into per-control label counts and numeric values."""
    if not isinstance(result, list):
        return
    for item in result:
        if not isinstance(item, dict):
            continue
        from_name = str(item.get("from_name", ""))
        kind = str(item.get("type", ""))
        raw = item.get("value")
        value: dict[str, Any] = raw if isinstance(raw, dict) else {}
        entry = distributions.setdefault(from_name, {"type": kind, "labels": {}, "values": []})
        chosen: list[Any] = []
        if kind.endswith("labels") or kind == "choices":
            found = value.get(kind, [])
            chosen = found if isinstance(found, list) else []
        elif kind == "taxonomy":
            paths = value.get("taxonomy", [])
            chosen = [path[-1] for path in paths if isinstance(path, list) and path]
        elif kind == "pairwise" and value.get("selected"):
            chosen = [value["selected"]]
        elif kind in ("rating", "number") and value.get(kind) is not None:
            entry["values"].append(value[kind])
        for label in chosen:
            entry["labels"][label] = entry["labels"].get(label, 0) + 1


def label_distribution(session: Session, *, task_id: int) -> dict[str, Any]:
    """Label Studio's `GET /api/tasks/{id}/agreement/`: per control, how often each label
    was chosen over the task's (not skipped) annotations and its predictions, and the
    average of numeric answers; `total_annotations` counts annotations only."""
    distributions: dict[str, dict[str, Any]] = {}
    results = list(
        session.scalars(
            select(Annotation.result).where(
                Annotation.task_id == task_id, ~Annotation.was_cancelled
            )
        )
    )
    for result in results:
        _merge_distribution(distributions, result)
    for result in session.scalars(select(Prediction.result).where(Prediction.task_id == task_id)):
        _merge_distribution(distributions, result)
    for entry in distributions.values():
        values = [v for v in entry.pop("values") if isinstance(v, int | float)]
        if values:
            entry["average"] = sum(values) / len(values)
            entry["count"] = len(values)
    return {"total_annotations": len(results), "distributions": distributions}

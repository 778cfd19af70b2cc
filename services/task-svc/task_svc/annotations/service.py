"""Annotations: validated against the labeling config, counted on write. Callers commit."""

from __future__ import annotations

import json
from typing import Any

from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import Conflict, NotFound, ValidationFailed
from labelops_common.labelconfig import validate_result
from sqlalchemy import Text, cast, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from task_svc.agreement import service as agreement
from task_svc.annotations.models import Annotation
from task_svc.annotations.schemas import AnnotationCreate, AnnotationUpdate
from task_svc.counts import service as counts
from task_svc.drafts.models import Draft
from task_svc.events import publisher
from task_svc.fsm import records as fsm
from task_svc.labelstream.models import TaskLock
from task_svc.predictions.models import Prediction
from task_svc.tasks.models import Task


def check_result(project: ProjectInfo, result: list[Any], *, field: str = "result") -> None:
    """A region naming an unknown control or object, or a label the config lacks, is a 400."""
    if project.config is None:
        return
    problems = validate_result(project.config, result)
    if problems:
        raise ValidationFailed({field: problems})


def _clear_other_ground_truth(session: Session, task: Task, keep_id: int) -> int:
    result = session.execute(
        update(Annotation)
        .where(Annotation.task_id == task.id, Annotation.id != keep_id, Annotation.ground_truth)
        .values(ground_truth=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _check_parents(session: Session, task: Task, body: AnnotationCreate) -> None:
    """A parent annotation or prediction is one of this task's: an id of another task (or
    of another organization's project) is a 400, so nothing links across tenants."""
    problems: dict[str, list[str]] = {}
    for field, model, parent_id in (
        ("parent_annotation", Annotation, body.parent_annotation),
        ("parent_prediction", Prediction, body.parent_prediction),
    ):
        if parent_id is None:
            continue
        found = session.scalar(select(model.task_id).where(model.id == parent_id))
        if found != task.id:
            problems[field] = [f"No {field.removeprefix('parent_')} {parent_id} on this task."]
    if problems:
        raise ValidationFailed(problems)


def _own_draft(session: Session, task: Task, draft_id: int | None, user_id: int) -> Draft | None:
    """The caller's draft on this task that the annotation replaces. A draft that is gone
    is ignored, as Label Studio does (a stale id from the editor must not fail a submit);
    another user's draft, or one on another task, is refused and left as it is."""
    if draft_id is None:
        return None
    draft = session.get(Draft, draft_id)
    if draft is None:
        return None
    if draft.user_id != user_id or draft.task_id != task.id:
        raise ValidationFailed({"draft_id": ["Not a draft of yours on this task."]})
    return draft


def create_annotation(
    session: Session, *, task: Task, project: ProjectInfo, body: AnnotationCreate, user_id: int
) -> Annotation:
    """`task` must be locked (`access.lock_task`) so concurrent annotators count right.

    The author is always the caller (`body.completed_by` is ignored, as Label Studio sets
    `completed_by` from the request's user); the caller's right to set `ground_truth` is
    the router's to check."""
    if not body.was_cancelled:
        check_result(project, body.result)
    _check_parents(session, task, body)
    draft = _own_draft(session, task, body.draft_id, user_id)
    if body.unique_id and session.scalar(
        select(Annotation.id).where(Annotation.unique_id == body.unique_id)
    ):
        raise Conflict("Annotation with this unique id already exists")
    now = utcnow()
    values: dict[str, Any] = {
        "task_id": task.id,
        "project_id": task.project_id,
        "completed_by_id": user_id,
        "updated_by_id": user_id,
        "result": body.result,
        "was_cancelled": body.was_cancelled,
        "ground_truth": body.ground_truth,
        "lead_time": body.lead_time,
        "parent_prediction_id": body.parent_prediction,
        "parent_annotation_id": body.parent_annotation,
        "unique_id": body.unique_id,
        "last_action": "skipped" if body.was_cancelled else "submitted",
        "created_at": now,
        "updated_at": now,
    }
    if draft is not None:
        values["draft_created_at"] = draft.created_at
        session.delete(draft)
    try:
        # An INSERT ... RETURNING that loads the new row: no unit-of-work bookkeeping for
        # a row written once per request.
        annotation = session.scalars(insert(Annotation).returning(Annotation), [values]).one()
    except IntegrityError:
        raise Conflict("Annotation with this unique id already exists") from None
    fsm.record(
        session,
        entity_name=fsm.ANNOTATION,
        entity_id=annotation.id,
        project_id=task.project_id,
        transition=fsm.TRANSITIONS[fsm.ANNOTATION]["annotation_submitted"],
        previous_state=None,
        triggered_by=user_id,
        context={"task_id": task.id, "was_cancelled": body.was_cancelled},
    )
    cleared = _clear_other_ground_truth(session, task, annotation.id) if body.ground_truth else 0
    counts.refresh_annotation_counters(
        session,
        task,
        project,
        ground_truth_delta=int(body.ground_truth) - cleared,
        updated_at=now,
    )
    agreement.refresh_task(session, project=project, task_id=task.id)
    # Submitting (or skipping) releases the caller's and the annotator's hold on the task
    # in the label stream. (A table-level DELETE: it matches no loaded object.)
    locks = TaskLock.__table__.c
    release = delete(TaskLock.__table__)  # type: ignore[arg-type]
    session.execute(release.where(locks.task_id == task.id, locks.user_id == user_id))
    publisher.publish_after_commit(
        session,
        publisher.ANNOTATION_CREATED,
        project_id=task.project_id,
        payload=publisher.annotation_payload(
            annotation_id=annotation.id, task_id=task.id, project_id=task.project_id
        ),
    )
    return annotation


def get_annotation(session: Session, annotation_id: int) -> Annotation:
    annotation = session.get(Annotation, annotation_id)
    if annotation is None:
        raise NotFound()
    return annotation


def update_annotation(
    session: Session,
    *,
    annotation: Annotation,
    task: Task,
    project: ProjectInfo,
    body: AnnotationUpdate,
    user_id: int,
) -> Annotation:
    if body.result is not None:
        check_result(project, body.result)
        annotation.result = body.result
        # Changed labels await a new verdict: a rejected annotation redone by its author
        # counts towards its task again and goes back to the review stream.
        annotation.review_status = None
        annotation.review_comment = None
    if body.was_cancelled is not None:
        annotation.was_cancelled = body.was_cancelled
    if body.lead_time is not None:
        annotation.lead_time = body.lead_time
    gt_delta = 0
    if body.ground_truth is not None and body.ground_truth != annotation.ground_truth:
        annotation.ground_truth = body.ground_truth
        gt_delta = 1 if body.ground_truth else -1
    if annotation.ground_truth:
        gt_delta -= _clear_other_ground_truth(session, task, annotation.id)
    annotation.updated_by_id = user_id
    annotation.updated_at = utcnow()
    annotation.last_action = "updated"
    # Updates keep the annotation CREATED; the row is the audit trail (Label Studio's
    # `annotation_updated` forces a record too).
    fsm.record(
        session,
        entity_name=fsm.ANNOTATION,
        entity_id=annotation.id,
        project_id=task.project_id,
        transition=fsm.TRANSITIONS[fsm.ANNOTATION]["annotation_updated"],
        previous_state=fsm.CREATED,
        triggered_by=user_id,
        context={"task_id": task.id},
    )
    counts.refresh_annotation_counters(
        session, task, project, ground_truth_delta=gt_delta, updated_at=annotation.updated_at
    )
    session.flush()
    agreement.refresh_task(session, project=project, task_id=task.id)
    publisher.publish_after_commit(
        session,
        publisher.ANNOTATION_UPDATED,
        project_id=task.project_id,
        payload=publisher.annotation_payload(
            annotation_id=annotation.id, task_id=task.id, project_id=task.project_id
        ),
    )
    return annotation


def delete_annotation(
    session: Session,
    *,
    annotation: Annotation,
    task: Task,
    project: ProjectInfo,
    user_id: int | None,
) -> None:
    fsm.record(
        session,
        entity_name=fsm.ANNOTATION,
        entity_id=annotation.id,
        project_id=task.project_id,
        transition=fsm.TRANSITIONS[fsm.ANNOTATION]["annotation_deleted"],
        previous_state=fsm.CREATED,
        triggered_by=user_id,
        context={"task_id": task.id},
    )
    gt_delta = -1 if annotation.ground_truth else 0
    publisher.publish_after_commit(
        session,
        publisher.ANNOTATIONS_DELETED,
        project_id=task.project_id,
        payload={"annotation_ids": [annotation.id], "task_id": task.id},
    )
    session.delete(annotation)
    counts.refresh_annotation_counters(
        session, task, project, ground_truth_delta=gt_delta, updated_at=utcnow()
    )
    session.flush()
    agreement.refresh_task(session, project=project, task_id=task.id)


def annotator_ids(session: Session, *, project_id: int) -> list[int]:
    """The distinct authors of a project's annotations, in id order."""
    return list(
        session.scalars(
            select(Annotation.completed_by_id)
            .where(Annotation.project_id == project_id, Annotation.completed_by_id.is_not(None))
            .distinct()
            .order_by(Annotation.completed_by_id)
        )
    )


# ------------------------------------------------------------------------------ labels in use

_CONTROLS_IN_USE = text(
    """
    SELECT r->>'from_name', r->>'to_name', r->>'type', count(*)
    FROM annotations a
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(a.result) = 'array' THEN a.result ELSE '[]'::jsonb END
    ) r
    WHERE a.project_id = :project_id AND jsonb_typeof(r) = 'object'
      AND r ? 'from_name' AND r ? 'type'
    GROUP BY 1, 2, 3
    """
)

_LABELS_IN_USE = text(
    """
    SELECT r->>'from_name', label, count(*)
    FROM {table} a
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(a.result) = 'array' THEN a.result ELSE '[]'::jsonb END
    ) r
    CROSS JOIN LATERAL jsonb_array_elements_text(
        CASE WHEN jsonb_typeof(r->'value'->(r->>'type')) = 'array'
             THEN r->'value'->(r->>'type') ELSE '[]'::jsonb END
    ) label
    WHERE a.project_id = :project_id AND jsonb_typeof(r) = 'object'
    GROUP BY 1, 2
    """
)


def controls_in_use(session: Session, *, project_id: int) -> list[tuple[str, str, str, int]]:
    """(from_name, to_name, type, regions) over the project's annotations: what a new
    config must still offer. One pass over the project's annotations, run only when a
    config changes."""
    rows = session.execute(_CONTROLS_IN_USE, {"project_id": project_id}).all()
    return [(str(r[0]), str(r[1] or ""), str(r[2]), int(r[3])) for r in rows]


def labels_in_use(session: Session, *, project_id: int) -> dict[tuple[str, str], tuple[int, int]]:
    """(from_name, label) → (regions in annotations, regions in drafts)."""
    found: dict[tuple[str, str], tuple[int, int]] = {}
    for index, table in enumerate(("annotations", "drafts")):
        query = text(_LABELS_IN_USE.text.replace("{table}", table))
        for from_name, label, count in session.execute(query, {"project_id": project_id}):
            key = (str(from_name), str(label))
            counts_ = list(found.get(key, (0, 0)))
            counts_[index] += int(count)
            found[key] = (counts_[0], counts_[1])
    return found


def count_label_uses(session: Session, *, uses: list[tuple[int, str]]) -> list[int]:
    """Per (project, label value as JSON): annotations whose result's text holds it, as
    Label Studio counts a label link's `annotations_count`."""
    counted: list[int] = []
    for project_id, value_json in uses:
        needle = value_json.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        counted.append(
            session.scalar(
                select(func.count())
                .select_from(Annotation)
                .where(
                    Annotation.project_id == project_id,
                    cast(Annotation.result, Text).ilike(f"%{needle}%"),
                )
            )
            or 0
        )
    return counted


_HOLDS_LABEL = text(
    """
    EXISTS (
        SELECT 1 FROM jsonb_array_elements(
            CASE WHEN jsonb_typeof(annotations.result) = 'array'
                 THEN annotations.result ELSE '[]'::jsonb END
        ) r
        WHERE jsonb_typeof(r) = 'object' AND r->'value'->(r->>'type') = CAST(:old AS jsonb)
    )
    """
)


def projects_holding_label(session: Session, *, old_label: Any) -> list[int]:
    """The projects with an annotation holding the label (for an organization-wide relabel)."""
    query = (
        select(Annotation.project_id)
        .where(_HOLDS_LABEL.bindparams(old=json.dumps(old_label)))
        .distinct()
    )
    return [int(project_id) for project_id in session.scalars(query)]


def relabel(session: Session, *, project_ids: list[int], old_label: Any, new_label: Any) -> int:
    """Label Studio's bulk label update: in the projects' annotations, every region whose
    value under its type equals `old_label` (e.g. `["Car"]`) gets `new_label`. Returns
    how many regions changed. Annotations are read in batches, never all at once."""
    if not project_ids:
        return 0
    updated = 0
    last_id = 0
    while True:
        batch = list(
            session.scalars(
                select(Annotation)
                .where(
                    Annotation.project_id.in_(project_ids),
                    Annotation.id > last_id,
                    _HOLDS_LABEL.bindparams(old=json.dumps(old_label)),
                )
                .order_by(Annotation.id)
                .limit(500)
                .with_for_update()
            )
        )
        if not batch:
            return updated
        for annotation in batch:
            result = []
            for region in annotation.result:
                kind = region.get("type") if isinstance(region, dict) else None
                value = region.get("value") if kind else None
                if isinstance(value, dict) and value.get(kind) == old_label:
                    region = {**region, "value": {**value, kind: new_label}}
                    updated += 1
                result.append(region)
            annotation.result = result
        session.flush()
        last_id = batch[-1].id

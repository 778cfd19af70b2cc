"""Agreement kept on write, and read per task and per project. Callers commit.

Why in the annotation's own transaction and not in an event handler: the writer already
holds the task's row lock (`access.lock_task`), so two annotators saving at once are
scored one after the other, never from a stale read; and the data manager's agreement
filter and the review queue's `needs_review` are right the moment the annotation is
committed, with no consumer lag to explain. The cost is bounded by the task's own
annotations (its overlap), a few milliseconds. Paths that write many annotations at once
(imports, relabelling, a changed config or IoU threshold) call `refresh_project`, which
works through the project's tasks in batches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import krippendorff
import numpy as np
from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.events import TASK_AGREEMENT_UPDATED
from sqlalchemy import (
    ARRAY,
    BigInteger,
    and_,
    any_,
    delete,
    func,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from task_svc.agreement import metrics
from task_svc.agreement.models import AnnotatorPairAgreement, TaskAgreement
from task_svc.annotations.models import Annotation
from task_svc.events import publisher
from task_svc.tasks.models import Task

#: Tasks scored per round trip by `refresh_project`.
REFRESH_BATCH = 2_000


_UPSERT_TASK_ROWS = text(
    """
    INSERT INTO task_agreements
        (task_id, project_id, agreement, annotations_count, controls, needs_review, updated_at)
    SELECT row.task_id, :project_id, row.agreement, row.annotations_count,
           CAST(row.controls AS jsonb), row.needs_review, :now
    FROM unnest(CAST(:task_ids AS bigint[]), CAST(:agreements AS double precision[]),
                CAST(:counts AS integer[]), CAST(:controls AS text[]),
                CAST(:needs AS boolean[]))
         AS row(task_id, agreement, annotations_count, controls, needs_review)
    ON CONFLICT (task_id) DO UPDATE SET
        agreement = excluded.agreement,
        annotations_count = excluded.annotations_count,
        controls = excluded.controls,
        needs_review = excluded.needs_review,
        updated_at = excluded.updated_at
    """
)
#: The tasks' copy of their score (`Task.agreement`), for the data manager's index.
_COPY_TO_TASKS = text(
    """
    UPDATE tasks SET agreement = changed.agreement
    FROM unnest(CAST(:task_ids AS bigint[]), CAST(:agreements AS double precision[]))
        AS changed (task_id, agreement)
    WHERE tasks.id = changed.task_id
    """
)
_INSERT_PAIR_ROWS = text(
    """
    INSERT INTO task_agreement_pairs
        (task_id, annotator_a, annotator_b, project_id, score, controls)
    SELECT row.task_id, row.annotator_a, row.annotator_b, :project_id, row.score,
           CAST(row.controls AS jsonb)
    FROM unnest(CAST(:task_ids AS bigint[]), CAST(:firsts AS bigint[]),
                CAST(:seconds AS bigint[]), CAST(:scores AS double precision[]),
                CAST(:controls AS text[]))
         AS row(task_id, annotator_a, annotator_b, score, controls)
    """
)


def _any_of(ids: Sequence[int]) -> Any:
    """`= ANY(array)`: one parameter however many ids (an IN list renders one per id)."""
    return any_(literal(list(ids), ARRAY(BigInteger)))


def _needs_review(agreement: float | None, threshold: float | None) -> bool:
    return agreement is not None and threshold is not None and agreement < threshold


def _latest_results(session: Session, task_ids: Sequence[int]) -> dict[int, dict[int, Any]]:
    """task id → annotator → the annotator's latest submitted (not skipped) result."""
    found: dict[int, dict[int, Any]] = {task_id: {} for task_id in task_ids}
    rows = session.execute(
        select(Annotation.task_id, Annotation.completed_by_id, Annotation.result)
        .where(
            Annotation.task_id == _any_of(task_ids),
            Annotation.was_cancelled.is_(False),
            Annotation.completed_by_id.is_not(None),
        )
        .order_by(Annotation.task_id, Annotation.id)
    )
    for task_id, annotator, result in rows:
        found[task_id][int(annotator)] = result
    return found


def _store(
    session: Session,
    *,
    project: ProjectInfo,
    scores: dict[int, tuple[int, metrics.TaskScore]],
) -> list[tuple[int, float | None]]:
    """Write the tasks' rows and pair rows; returns (task, agreement) for those that changed."""
    if not scores:
        return []
    task_ids = list(scores)
    before = dict(
        session.execute(
            select(TaskAgreement.task_id, TaskAgreement.agreement).where(
                TaskAgreement.task_id == _any_of(task_ids)
            )
        ).all()
    )
    now = utcnow()
    session.execute(
        delete(AnnotatorPairAgreement).where(AnnotatorPairAgreement.task_id == _any_of(task_ids))
    )
    empty = [task_id for task_id, (count, _) in scores.items() if count == 0]
    if empty:
        session.execute(delete(TaskAgreement).where(TaskAgreement.task_id == _any_of(empty)))
    # A task one annotator finished gets no row until a second one does (most tasks of an
    # overlap-1 project never need one); an existing row follows it down.
    kept = [
        (task_id, count, score)
        for task_id, (count, score) in scores.items()
        if count > 1 or (count > 0 and task_id in before)
    ]
    if kept:
        # Arrays, one per column: one statement of constant shape whatever the batch size
        # (no per-row round trip, no statement compiled per batch).
        session.execute(
            _UPSERT_TASK_ROWS,
            {
                "project_id": project.id,
                "now": now,
                "task_ids": [task_id for task_id, _, _ in kept],
                "agreements": [score.agreement for _, _, score in kept],
                "counts": [count for _, count, _ in kept],
                "controls": [json.dumps(score.controls) for _, _, score in kept],
                "needs": [
                    _needs_review(score.agreement, project.agreement_threshold)
                    for _, _, score in kept
                ],
            },
        )
    pairs = [(task_id, pair) for task_id, (_, score) in scores.items() for pair in score.pairs]
    if pairs:
        session.execute(
            _INSERT_PAIR_ROWS,
            {
                "project_id": project.id,
                "task_ids": [task_id for task_id, _ in pairs],
                "firsts": [pair.annotator_a for _, pair in pairs],
                "seconds": [pair.annotator_b for _, pair in pairs],
                "scores": [pair.score for _, pair in pairs],
                "controls": [json.dumps(pair.controls) for _, pair in pairs],
            },
        )
    changed = [
        (task_id, score.agreement)
        for task_id, (_, score) in scores.items()
        if before.get(task_id) != score.agreement
    ]
    if changed:
        session.execute(
            _COPY_TO_TASKS,
            {
                "task_ids": [task_id for task_id, _ in changed],
                "agreements": [agreement for _, agreement in changed],
            },
        )
    return changed


def _score_tasks(
    session: Session, *, project: ProjectInfo, task_ids: Sequence[int]
) -> dict[int, tuple[int, metrics.TaskScore]]:
    controls = metrics.scored_controls(project.config)
    results = _latest_results(session, task_ids)
    return {
        task_id: (
            len(by_annotator),
            metrics.task_score(
                by_annotator, controls, iou_threshold=project.agreement_iou_threshold
            ),
        )
        for task_id, by_annotator in results.items()
    }


def _announce(
    session: Session, project_id: int, changed: Iterable[tuple[int, float | None]]
) -> None:
    for task_id, agreement in changed:
        publisher.publish_after_commit(
            session,
            TASK_AGREEMENT_UPDATED,
            project_id=project_id,
            payload={"task": task_id, "agreement": agreement},
        )


def refresh_task(session: Session, *, project: ProjectInfo, task_id: int) -> float | None:
    """Score the task's annotators again after one of its annotations changed; the caller
    holds the task's lock. Sends TASK_AGREEMENT_UPDATED (after commit) when it moved."""
    scores = _score_tasks(session, project=project, task_ids=[task_id])
    changed = _store(session, project=project, scores=scores)
    _announce(session, project.id, changed)
    return scores[task_id][1].agreement


def refresh_tasks(
    session: Session, *, project: ProjectInfo, task_ids: Sequence[int], announce: bool = True
) -> None:
    """`refresh_task` for many tasks (a bulk action, an import), `REFRESH_BATCH` per round
    trip; the caller holds the tasks' locks or wrote them in this transaction."""
    session.flush()
    for start in range(0, len(task_ids), REFRESH_BATCH):
        chunk = task_ids[start : start + REFRESH_BATCH]
        changed = _store(
            session, project=project, scores=_score_tasks(session, project=project, task_ids=chunk)
        )
        if announce:
            _announce(session, project.id, changed)


def refresh_project(
    session: Session, *, project: ProjectInfo, announce: bool = True, batch: int = REFRESH_BATCH
) -> int:
    """Score every task of the project with two or more annotations again, `batch` tasks
    per round trip (annotations read once per batch, rows written with one statement each).
    Returns how many tasks were scored. Tasks left with fewer than two annotators keep a
    row with no agreement, which `refresh_task` maintains from then on."""
    scored = 0
    last = 0
    while True:
        # Walks the project's tasks by id (the `(project_id, id)` order of its index),
        # taking those whose counters say two or more annotations were submitted.
        task_ids = list(
            session.scalars(
                select(Task.id)
                .where(Task.project_id == project.id, Task.id > last, Task.total_annotations > 1)
                .order_by(Task.id)
                .limit(batch)
            )
        )
        if not task_ids:
            return scored
        changed = _store(
            session,
            project=project,
            scores=_score_tasks(session, project=project, task_ids=task_ids),
        )
        if announce:
            _announce(session, project.id, changed)
        scored += len(task_ids)
        last = task_ids[-1]


def apply_threshold(session: Session, *, project_id: int, threshold: float | None) -> int:
    """The project's threshold changed: `needs_review` follows in one statement (the
    `(project_id, agreement)` index finds the rows). Returns the tasks needing review."""
    needs = (
        and_(TaskAgreement.agreement.is_not(None), TaskAgreement.agreement < threshold)
        if threshold is not None
        else literal(False)
    )
    session.execute(
        update(TaskAgreement)
        .where(TaskAgreement.project_id == project_id, TaskAgreement.needs_review != needs)
        .values(needs_review=needs)
        .execution_options(synchronize_session=False)
    )
    return int(
        session.scalar(
            select(func.count()).where(
                TaskAgreement.project_id == project_id, TaskAgreement.needs_review
            )
        )
        or 0
    )


# ------------------------------------------------------------------------------ reading


def task_agreement(session: Session, *, task_id: int) -> dict[str, Any]:
    """The task's stored agreement, its per-pair scores and per-control means."""
    row = session.get(TaskAgreement, task_id)
    pairs = session.scalars(
        select(AnnotatorPairAgreement)
        .where(AnnotatorPairAgreement.task_id == task_id)
        .order_by(AnnotatorPairAgreement.annotator_a, AnnotatorPairAgreement.annotator_b)
    )
    return {
        "agreement": row.agreement if row else None,
        "needs_review": row.needs_review if row else False,
        "annotators_count": row.annotations_count if row else 0,
        "controls": row.controls if row else {},
        "pairs": [
            {
                "annotator_a": pair.annotator_a,
                "annotator_b": pair.annotator_b,
                "score": pair.score,
                "controls": pair.controls,
            }
            for pair in pairs
        ],
    }


@dataclass(frozen=True)
class Alpha:
    control: str
    alpha: float | None
    #: Tasks with two or more values (the units alpha is computed over).
    units: int


_CHOICE_COUNTS = text(
    """
    WITH latest AS (
        SELECT DISTINCT ON (a.task_id, a.completed_by_id) a.task_id, a.result
        FROM annotations a
        WHERE a.project_id = :project_id AND NOT a.was_cancelled
          AND a.completed_by_id IS NOT NULL
        ORDER BY a.task_id, a.completed_by_id, a.id DESC
    ), answers AS (
        SELECT l.task_id,
               (SELECT string_agg(c, E'\\x1f' ORDER BY c)
                FROM jsonb_array_elements_text(r->'value'->'choices') c) AS category
        FROM latest l
        CROSS JOIN LATERAL jsonb_array_elements(
            CASE WHEN jsonb_typeof(l.result) = 'array' THEN l.result ELSE '[]'::jsonb END
        ) r
        WHERE jsonb_typeof(r) = 'object' AND r->>'from_name' = :control
          AND r->>'type' = 'choices' AND jsonb_typeof(r->'value'->'choices') = 'array'
    )
    SELECT task_id, category, count(*) FROM answers
    WHERE category IS NOT NULL
    GROUP BY task_id, category
    ORDER BY task_id
    """
)


def krippendorff_alpha(session: Session, *, project_id: int, control: str) -> Alpha:
    """Krippendorff's alpha (nominal) for one choices control, over the reliability data
    annotators x tasks: each annotator's latest answer per task, a set of choices being one
    category. Given to `krippendorff.alpha` as value counts (tasks x categories), which is
    the same data without the annotators x tasks matrix in memory. None when undefined (no
    task with two answers, or a single category throughout)."""
    categories: dict[str, int] = {}
    units: dict[int, dict[int, int]] = {}
    for task_id, category, count in session.execute(
        _CHOICE_COUNTS, {"project_id": project_id, "control": control}
    ):
        code = categories.setdefault(str(category), len(categories))
        units.setdefault(int(task_id), {})[code] = int(count)
    pairable = [counts for counts in units.values() if sum(counts.values()) > 1]
    if not pairable or len(categories) < 2:
        return Alpha(control=control, alpha=None, units=len(pairable))
    matrix = np.zeros((len(pairable), len(categories)), dtype=float)
    for row, counts in enumerate(pairable):
        for code, count in counts.items():
            matrix[row, code] = count
    try:
        value = float(krippendorff.alpha(value_counts=matrix, level_of_measurement="nominal"))
    except (ValueError, ZeroDivisionError):
        return Alpha(control=control, alpha=None, units=len(pairable))
    return Alpha(control=control, alpha=None if np.isnan(value) else value, units=len(pairable))


def project_agreement(session: Session, *, project: ProjectInfo) -> dict[str, Any]:
    """The project's mean task agreement, tasks needing review, per pair and per annotator
    means (from the stored rows, by index), and Krippendorff's alpha per choices control."""
    rows = TaskAgreement
    mean, tasks, needing = session.execute(
        select(
            func.avg(rows.agreement),
            func.count(rows.agreement),
            func.count().filter(rows.needs_review),
        ).where(rows.project_id == project.id)
    ).one()
    pair = AnnotatorPairAgreement
    pairs = session.execute(
        select(pair.annotator_a, pair.annotator_b, func.avg(pair.score), func.count())
        .where(pair.project_id == project.id)
        .group_by(pair.annotator_a, pair.annotator_b)
        .order_by(pair.annotator_a, pair.annotator_b)
    ).all()
    sides = union_all(
        select(pair.annotator_a.label("annotator"), pair.score).where(
            pair.project_id == project.id
        ),
        select(pair.annotator_b.label("annotator"), pair.score).where(
            pair.project_id == project.id
        ),
    ).subquery()
    annotators = session.execute(
        select(sides.c.annotator, func.avg(sides.c.score), func.count())
        .group_by(sides.c.annotator)
        .order_by(sides.c.annotator)
    ).all()
    choices = [
        control.name
        for control in metrics.scored_controls(project.config)
        if control.type == "choices"
    ]
    alphas = [krippendorff_alpha(session, project_id=project.id, control=name) for name in choices]
    defined = [alpha.alpha for alpha in alphas if alpha.alpha is not None]
    return {
        "project": project.id,
        "agreement": float(mean) if mean is not None else None,
        "tasks_with_agreement": int(tasks or 0),
        "tasks_needing_review": int(needing or 0),
        "agreement_threshold": project.agreement_threshold,
        "krippendorff_alpha": sum(defined) / len(defined) if defined else None,
        "krippendorff_alpha_per_control": [
            {"control": alpha.control, "alpha": alpha.alpha, "tasks": alpha.units}
            for alpha in alphas
        ],
        "pairs": [
            {"annotator_a": a, "annotator_b": b, "agreement": float(score), "tasks": count}
            for a, b, score, count in pairs
        ],
        "annotators": [
            {"annotator": annotator, "agreement": float(score), "tasks": count}
            for annotator, score, count in annotators
        ],
    }

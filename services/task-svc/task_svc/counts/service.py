"""Every counter task-svc keeps, and the rule they count by; writers update them in the
transaction of the change.

* A task's counters (`total_annotations`, `cancelled_annotations`, `is_labeled`,
  `completed_at`, `total_predictions`, `predictions_score`): the writer locks the task
  rows (`access.lock_task`), recounts those tasks' annotations or predictions (a handful
  of rows per task, by index) and applies the differences to the project's counters, so
  concurrent annotators on one task can neither double-count nor lose a count. One task
  (`refresh_annotation_counters`) or many in grouped queries (`recount_annotations`).
* The finished rule: an annotation counts towards a task's overlap unless it was
  skipped or its newest review rejected it (the task goes back to its annotator), and
  skipped ones count too when the project ignores skipped tasks (`finished_annotation`,
  `counts_as_finished`); a task is labeled when that many distinct annotators finished it
  (`is_labeled`).
* A task's review counters (`reviews_accepted`, `reviews_rejected`, `reviewed`), from its
  annotations' verdicts (`annotations.review_status`), in the same recount.
* A project's counters and its tasks version.

A project's tasks version is raised by every committed write to its tasks, their
annotations or their predictions: `bump` (any counter change, even by zero), `touch`
(writes that change no counter, such as a task's data) and, as a safety net, any ORM
flush of such rows (`_touch_flushed_projects`). Readers cache what they compute from the
tasks under that number (`datamanager.service.selection_totals`), so a cached value is
never stale.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from sqlalchemy import (
    ColumnElement,
    bindparam,
    case,
    delete,
    distinct,
    event,
    func,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction
from sqlalchemy.orm.attributes import set_committed_value

from task_svc.annotations.models import Annotation
from task_svc.counts.models import ProjectCounters
from task_svc.fsm import records as fsm
from task_svc.predictions.models import Prediction
from task_svc.tasks.models import Task

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
    write_pending_counters(session)
    rows = session.scalars(
        select(ProjectCounters).where(ProjectCounters.project_id.in_(list(project_ids)))
    )
    for row in rows:
        counts[row.project_id] = {name: getattr(row, name) for name in COUNTER_FIELDS}
    return counts


def forget_project(session: Session, *, project_id: int) -> int:
    """Drop a deleted project's counters; returns how many rows went."""
    session.info.get(_PENDING, {}).pop(project_id, None)
    result = session.execute(
        delete(ProjectCounters).where(ProjectCounters.project_id == project_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _ensure_row(session: Session, project_id: int) -> None:
    """Create the project's counters row if missing.

    Its tasks version starts at the clock in microseconds, not 0: if the project was
    deleted (its row with it) and its id is handed out again (say, a restored project database), the new row's
    versions start above every version the old one reached (it would need more writes
    than microseconds passed), so nothing cached for the old project is read as the new's.
    """
    now = utcnow()
    session.execute(
        postgresql_insert(ProjectCounters)
        .values(project_id=project_id, updated_at=now, tasks_version=int(now.timestamp() * 1e6))
        .on_conflict_do_nothing(index_elements=["project_id"])
    )


def reserve_inner_ids(session: Session, *, project_id: int, count: int) -> int:
    """Reserve `count` consecutive `inner_id`s; returns the first.

    The UPDATE takes the counters row's lock until commit, so concurrent imports into one
    project get disjoint ranges instead of colliding on the unique index.
    """
    _ensure_row(session, project_id)
    last = session.execute(
        update(ProjectCounters)
        .where(ProjectCounters.project_id == project_id)
        .values(last_inner_id=ProjectCounters.last_inner_id + count)
        .returning(ProjectCounters.last_inner_id)
    ).scalar_one()
    return int(last) - count + 1


def bump(session: Session, *, project_id: int, **deltas: int) -> None:
    """Add `deltas` to the project's counters in the caller's transaction.

    The deltas are summed in the session and written by one UPDATE just before the commit
    (or before any read of the counters in this session). Every annotator of a project
    writes the same counters row, so its lock is held only for that last statement
    rather than for the whole transaction. Every call raises the project's tasks version,
    even when all deltas are zero (the task's other columns changed).
    """
    changes = {name: delta for name, delta in deltas.items() if delta}
    unknown = set(changes) - set(COUNTER_FIELDS)
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    totals = _pending(session).setdefault(project_id, {})
    for name, delta in changes.items():
        totals[name] = totals.get(name, 0) + delta


def touch(session: Session, *, project_id: int) -> None:
    """Raise the project's tasks version at commit: its tasks changed without a counter
    changing (a task's data or meta, a Core UPDATE of task columns)."""
    _pending(session).setdefault(project_id, {})


def tasks_version(session: Session, *, project_id: int) -> int | None:
    """The project's tasks version as committed, or None while this session's own
    transaction has changed the project's tasks: what it reads then may never commit,
    so it must not be cached under any version."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    if project_id in session.info.get(_PENDING, {}) or project_id in session.info.get(_WRITTEN, ()):
        return None
    version = session.scalar(
        select(ProjectCounters.tasks_version).where(ProjectCounters.project_id == project_id)
    )
    return int(version or 0)


_PENDING = "labelops_pending_counter_deltas"
#: Projects whose counters row the session's open transaction has updated.
_WRITTEN = "labelops_counters_written"
#: Tables whose rows, written through the ORM, raise their project's tasks version.
_VERSIONED_TABLES = frozenset({"tasks", "annotations", "predictions"})


def _add_deltas_statement() -> Any:
    """Every counter plus its delta (zeros too), the version plus one: built once, so each
    commit runs one cached statement rather than building and compiling a new one."""
    column = ProjectCounters.__table__.c
    values: dict[str, Any] = {name: column[name] + bindparam(name) for name in COUNTER_FIELDS}
    values |= {
        "tasks_version": column.tasks_version + 1,
        "updated_at": bindparam("counters_now"),
    }
    table: Any = ProjectCounters.__table__
    return (
        update(table)
        .where(column.project_id == bindparam("counters_project_id"))
        .values(values)
        .returning(
            column.task_number,
            column.finished_task_number,
            column.num_tasks_with_annotations,
            column.fsm_state,
        )
    )


_ADD_DELTAS = _add_deltas_statement()


def _pending(session: Session) -> dict[int, dict[str, int]]:
    pending: dict[int, dict[str, int]] = session.info.setdefault(_PENDING, {})
    return pending


def write_pending_counters(session: Session) -> None:
    """Apply the deltas `bump` collected and raise each touched project's tasks version,
    in project order so writers never deadlock. Runs before every commit."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # so the rows it writes touch their projects now, not after this
    pending: dict[int, dict[str, int]] = session.info.pop(_PENDING, {})
    if pending:
        _write_counters(session, pending)
    # Last: a project's state change above adds its row to the transaction's.
    fsm.write_pending_records(session)


def _write_counters(session: Session, pending: dict[int, dict[str, int]]) -> None:
    written: set[int] = session.info.setdefault(_WRITTEN, set())
    now = utcnow()
    for project_id in sorted(pending):
        deltas = pending[project_id]
        params: dict[str, Any] = {name: deltas.get(name, 0) for name in COUNTER_FIELDS}
        params |= {"counters_project_id": project_id, "counters_now": now}
        # The row exists after a project's first write, so try the UPDATE alone first.
        after = session.execute(_ADD_DELTAS, params).first()
        if after is None:
            _ensure_row(session, project_id)
            after = session.execute(_ADD_DELTAS, params).one()
        written.add(project_id)
        if deltas:
            _project_state_change(session, project_id, after, deltas)


def _project_state_change(
    session: Session, project_id: int, after: Any, deltas: dict[str, int]
) -> None:
    """Record the project's new FSM state if these counter changes moved it: compared with
    the state stored beside the counters, or the one the counters before them imply. (An
    UPDATE and an INSERT, only when the state changes.)"""
    tasks, finished, annotated, stored = after
    current = stored or fsm.project_state(
        current=None,
        tasks=tasks - deltas.get("task_number", 0),
        finished=finished - deltas.get("finished_task_number", 0),
        annotated=annotated - deltas.get("num_tasks_with_annotations", 0),
    )
    new = fsm.project_state(current=current, tasks=tasks, finished=finished, annotated=annotated)
    if new == current:
        return
    store_project_state(session, project_id=project_id, state=new)
    fsm.record(
        session,
        entity_name=fsm.PROJECT,
        entity_id=project_id,
        project_id=project_id,
        transition=fsm.project_transition(current, new),
        previous_state=current,
        triggered_by=fsm.actor(session),
        context={"total_tasks": tasks, "finished_tasks": finished},
    )


def store_project_state(session: Session, *, project_id: int, state: str) -> None:
    """Keep the project's FSM state beside its counters (creating their row if missing)."""
    _ensure_row(session, project_id)
    session.execute(
        update(ProjectCounters.__table__)  # type: ignore[arg-type]
        .where(ProjectCounters.__table__.c.project_id == project_id)
        .values(fsm_state=state)
    )


def project_state(session: Session, *, project_id: int) -> str:
    """The project's FSM state: as last recorded, or as its counters imply. Locks the
    counters row, so a manual transition and a write cannot both move it."""
    write_pending_counters(session)
    row = session.execute(
        select(
            ProjectCounters.fsm_state,
            ProjectCounters.task_number,
            ProjectCounters.finished_task_number,
            ProjectCounters.num_tasks_with_annotations,
        )
        .where(ProjectCounters.project_id == project_id)
        .with_for_update()
    ).first()
    if row is None:
        return fsm.CREATED
    stored, tasks, finished, annotated = row
    return stored or fsm.project_state(
        current=None, tasks=tasks, finished=finished, annotated=annotated
    )


# Session-wide listeners: every session of the process gets them (other services' sessions
# never hold versioned rows or pending deltas, so for them these do nothing).


@event.listens_for(Session, "before_flush")
def _touch_flushed_projects(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    """Touch the project of each task, annotation or prediction the flush writes, so an
    ORM writer cannot forget the version. (Core UPDATE/DELETE statements are not seen
    here; their callers `bump` or `touch`.)"""
    for instance in (*session.new, *session.dirty, *session.deleted):
        if getattr(instance, "__tablename__", None) not in _VERSIONED_TABLES:
            continue
        if instance in session.dirty and not session.is_modified(instance):
            continue
        history = inspect(instance).attrs.project_id.history
        for project_id in (*history.added, *history.unchanged, *history.deleted):
            if project_id is not None:
                touch(session, project_id=project_id)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    write_pending_counters(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_written(session: Session, transaction: SessionTransaction) -> None:
    """Once the outermost transaction ends (a savepoint's end commits nothing yet)."""
    if transaction.parent is None:
        session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "after_rollback")
def _drop_pending_counters(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_WRITTEN, None)


# --------------------------------------------------------------------------------------
# The finished rule
# --------------------------------------------------------------------------------------

#: `skip_queue` under which a skipped annotation finishes a task like a submitted one.
IGNORE_SKIPPED = "IGNORE_SKIPPED"


#: `annotations.review_status` of a rejected annotation (`reviews.models.REJECTED`).
REJECTED = "rejected"
#: The review statuses that count as accepted (a fix is an acceptance).
ACCEPTED_STATUSES = ("accepted", "fixed_and_accepted")


def finished_annotation(
    was_cancelled: Any, *, skip_queue: str | None, review_status: Any
) -> ColumnElement[bool]:
    """SQL: the annotation (whose `was_cancelled` and `review_status` columns are given)
    counts towards its task's overlap: a rejected one does not, until its author changes it."""
    finished: ColumnElement[bool] = ~was_cancelled
    if skip_queue == IGNORE_SKIPPED:
        finished = finished | was_cancelled
    return finished & not_rejected(review_status)


def not_rejected(review_status: Any) -> ColumnElement[bool]:
    """SQL: the annotation's newest review did not reject it (NULL: never reviewed)."""
    rejected: ColumnElement[bool] = review_status.is_(None) | (review_status != REJECTED)
    return rejected


def _review_counts(columns: Any) -> tuple[Any, Any, Any]:
    """Aggregates over a task's annotations: accepted, rejected, submitted but unreviewed."""
    submitted = ~columns.was_cancelled
    return (
        func.count().filter(submitted, columns.review_status.in_(ACCEPTED_STATUSES)),
        func.count().filter(submitted, columns.review_status == REJECTED),
        func.count().filter(submitted, columns.review_status.is_(None)),
    )


def is_reviewed(submitted: int, unreviewed: int) -> bool:
    """A task is reviewed once every submitted annotation of it has a verdict."""
    return submitted > 0 and unreviewed == 0


def counts_as_finished(was_cancelled: bool, *, skip_queue: str | None) -> bool:
    """`finished_annotation` for an annotation held in memory (the import writer's)."""
    return not was_cancelled or skip_queue == IGNORE_SKIPPED


#: `inner_id * COHORT_STRIDE mod 100` orders every 100 consecutive tasks in a spread-out
#: permutation of 0-99 (the stride is coprime to 100), so a task is in the overlap cohort
#: when that number is below `overlap_cohort_percentage`.
COHORT_STRIDE = 37


def task_overlap(inner_id: int, project: ProjectInfo) -> int:
    """Label Studio's overlap rule: `overlap_cohort_percentage` percent of the tasks need
    `maximum_annotations` annotators, the others one. Which tasks is decided from the
    task's `inner_id` alone, so it is the same at import, on a settings change and in SQL
    (`task_overlap_sql`), and exact per block of 100 consecutive tasks."""
    return _cohort_overlap(inner_id, project.maximum_annotations, project.overlap_cohort_percentage)


def _cohort_overlap(inner_id: int, maximum: int, percentage: int) -> int:
    maximum = max(maximum, 1)
    if percentage >= 100 or maximum == 1:
        return maximum
    return maximum if ((inner_id - 1) * COHORT_STRIDE) % 100 < percentage else 1


def task_overlap_sql(inner_id: Any, maximum: int, percentage: int) -> ColumnElement[int]:
    """`task_overlap` as SQL over a task's `inner_id` column."""
    maximum = max(maximum, 1)
    if percentage >= 100 or maximum == 1:
        return literal(maximum)
    in_cohort = ((inner_id - 1) * COHORT_STRIDE) % 100 < percentage
    return case((in_cohort, maximum), else_=1)


def is_labeled(annotators: int, overlap: int | None) -> bool:
    """A task is labeled once `overlap` distinct annotators finished it."""
    return annotators >= max(overlap or 0, 1)


# --------------------------------------------------------------------------------------
# A task's counters
# --------------------------------------------------------------------------------------


def refresh_annotation_counters(
    session: Session,
    task: Task,
    project: ProjectInfo,
    *,
    ground_truth_delta: int = 0,
    updated_at: datetime | None = None,
) -> None:
    """Recount the (locked) task's annotations; store its counters (and `updated_at`, if given)."""
    session.flush()
    # Table columns, not the mapped class: a plain SELECT skips the ORM's statement handling.
    columns = Annotation.__table__.c
    finished = finished_annotation(
        columns.was_cancelled, skip_queue=project.skip_queue, review_status=columns.review_status
    )
    row = session.execute(
        select(
            func.count().filter(~columns.was_cancelled),
            func.count().filter(columns.was_cancelled),
            func.count(distinct(columns.completed_by_id)).filter(finished),
            func.max(columns.created_at).filter(finished),
            func.count().filter(~columns.was_cancelled, ~columns.ground_truth),
            *_review_counts(columns),
        ).where(columns.task_id == task.id)
    ).one()
    total, cancelled, annotators, newest = int(row[0]), int(row[1]), int(row[2]), row[3]
    useful = int(row[4])
    accepted, rejected, unreviewed = int(row[5]), int(row[6]), int(row[7])
    labeled = is_labeled(annotators, task.overlap)
    completed_at: datetime | None = newest if labeled else None
    bump(
        session,
        project_id=task.project_id,
        total_annotations_number=total - task.total_annotations,
        useful_annotation_number=useful - task.useful_annotations,
        skipped_annotations_number=cancelled - task.cancelled_annotations,
        num_tasks_with_annotations=int(total > 0) - int(task.total_annotations > 0),
        finished_task_number=int(labeled) - int(task.is_labeled),
        ground_truth_number=ground_truth_delta,
    )
    values: dict[str, object] = {
        "total_annotations": total,
        "cancelled_annotations": cancelled,
        "useful_annotations": useful,
        "is_labeled": labeled,
        "completed_at": completed_at,
        "reviews_accepted": accepted,
        "reviews_rejected": rejected,
        "reviewed": is_reviewed(total, unreviewed),
    }
    if updated_at is not None:
        values["updated_at"] = updated_at
    state = _task_state_change(session, task, annotated=total + cancelled > 0, labeled=labeled)
    if state is not None:
        values["fsm_state"] = state
    _store(session, task, values)


def _task_state_change(
    session: Session, task: Task, *, annotated: bool, labeled: bool
) -> str | None:
    """Record the task's new FSM state if its counts moved it (one INSERT); returns it.

    The state is compared with the one stored on the task, or, if none was ever stored,
    with the one its counters before this change imply."""
    was_annotated = task.total_annotations + task.cancelled_annotations > 0
    if (was_annotated, task.is_labeled) == (annotated, labeled):
        return None
    current = task.fsm_state or fsm.task_state(
        current=None, annotated=was_annotated, labeled=task.is_labeled
    )
    new = fsm.task_state(current=current, annotated=annotated, labeled=labeled)
    if new == current:
        return None
    fsm.record(
        session,
        entity_name=fsm.TASK,
        entity_id=task.id,
        project_id=task.project_id,
        transition=fsm.task_transition(new),
        previous_state=current,
        triggered_by=fsm.actor(session),
        context={"is_labeled": labeled},
    )
    return new


def _store(session: Session, task: Task, values: dict[str, object]) -> None:
    """One table-level UPDATE of the task's columns; the loaded task gets the same values
    without being marked changed, so the commit's flush writes nothing more for it."""
    table = Task.__table__
    session.execute(update(table).where(table.c.id == task.id).values(values))  # type: ignore[arg-type]
    for name, value in values.items():
        set_committed_value(task, name, value)


def refresh_prediction_counters(session: Session, task: Task) -> None:
    """Recount the (locked) task's predictions; store its counters."""
    session.flush()
    row = session.execute(
        select(func.count(), func.avg(Prediction.score)).where(Prediction.task_id == task.id)
    ).one()
    total = int(row[0])
    bump(
        session,
        project_id=task.project_id,
        total_predictions_number=total - task.total_predictions,
    )
    task.total_predictions = total
    task.predictions_score = float(row[1]) if row[1] is not None else None


#: Task ids per grouped recount (also keeps every IN list short).
RECOUNT_CHUNK = 500


def _chunks(ids: Sequence[int], size: int = RECOUNT_CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def recount_annotations(
    session: Session,
    *,
    project: ProjectInfo,
    task_ids: Sequence[int],
    ground_truth_delta: int = 0,
    touched_by: int | None = None,
) -> None:
    """`refresh_annotation_counters` for many locked tasks: one grouped recount per chunk.

    Each task's `updated_at` becomes now (and `updated_by_id` `touched_by`, if given).
    """
    session.flush()
    finished = finished_annotation(
        Annotation.was_cancelled,
        skip_queue=project.skip_queue,
        review_status=Annotation.review_status,
    )
    deltas = dict.fromkeys(
        (
            "total_annotations_number",
            "skipped_annotations_number",
            "num_tasks_with_annotations",
            "finished_task_number",
            "useful_annotation_number",
        ),
        0,
    )
    now = utcnow()
    for chunk in _chunks(task_ids):
        recount: dict[int, tuple[Any, ...]] = {
            int(row[0]): tuple(row[1:])
            for row in session.execute(
                select(
                    Annotation.task_id,
                    func.count().filter(~Annotation.was_cancelled),
                    func.count().filter(Annotation.was_cancelled),
                    func.count(distinct(Annotation.completed_by_id)).filter(finished),
                    func.max(Annotation.created_at).filter(finished),
                    func.count().filter(~Annotation.was_cancelled, ~Annotation.ground_truth),
                    *_review_counts(Annotation),
                )
                .where(Annotation.task_id.in_(chunk))
                .group_by(Annotation.task_id)
            )
        }
        changes = []
        state_rows: list[dict[str, Any]] = []
        for (
            task_id,
            old_total,
            old_cancelled,
            old_useful,
            old_labeled,
            overlap,
            stored_state,
        ) in session.execute(
            select(
                Task.id,
                Task.total_annotations,
                Task.cancelled_annotations,
                Task.useful_annotations,
                Task.is_labeled,
                Task.overlap,
                Task.fsm_state,
            ).where(Task.id.in_(chunk))
        ):
            total, cancelled, annotators, newest, useful, accepted, rejected, unreviewed = (
                recount.get(task_id, (0, 0, 0, None, 0, 0, 0, 0))
            )
            labeled = is_labeled(annotators, overlap)
            deltas["total_annotations_number"] += total - old_total
            deltas["skipped_annotations_number"] += cancelled - old_cancelled
            deltas["num_tasks_with_annotations"] += int(total > 0) - int(old_total > 0)
            deltas["finished_task_number"] += int(labeled) - int(old_labeled)
            deltas["useful_annotation_number"] += useful - old_useful
            change: dict[str, Any] = {
                "id": task_id,
                "total_annotations": total,
                "cancelled_annotations": cancelled,
                "useful_annotations": useful,
                "is_labeled": labeled,
                "completed_at": newest if labeled else None,
                "updated_at": now,
                "reviews_accepted": accepted,
                "reviews_rejected": rejected,
                "reviewed": is_reviewed(total, unreviewed),
            }
            if touched_by is not None:
                change["updated_by_id"] = touched_by
            change["fsm_state"] = _bulk_task_state(
                state_rows,
                task_id=task_id,
                project_id=project.id,
                stored=stored_state,
                before=(old_total + old_cancelled > 0, old_labeled),
                after=(total + cancelled > 0, labeled),
                triggered_by=touched_by if touched_by is not None else fsm.actor(session),
            )
            changes.append(change)
        if changes:
            session.execute(update(Task), changes)
        fsm.record_many(session, state_rows)
    bump(session, project_id=project.id, ground_truth_number=ground_truth_delta, **deltas)


def _bulk_task_state(
    state_rows: list[dict[str, Any]],
    *,
    task_id: int,
    project_id: int,
    stored: str | None,
    before: tuple[bool, bool],
    after: tuple[bool, bool],
    triggered_by: int | None,
) -> str | None:
    """`_task_state_change` for one task of a grouped recount: the row goes to
    `state_rows` (written in one statement per chunk); returns the state to store."""
    if before == after:
        return stored
    current = stored or fsm.task_state(current=None, annotated=before[0], labeled=before[1])
    new = fsm.task_state(current=current, annotated=after[0], labeled=after[1])
    if new == current:
        return stored
    state_rows.append(
        fsm.state_row(
            entity_name=fsm.TASK,
            entity_id=task_id,
            project_id=project_id,
            transition=fsm.task_transition(new),
            previous_state=current,
            triggered_by=triggered_by,
            context={"is_labeled": after[1]},
        )
    )
    return new


def recount_predictions(session: Session, *, project_id: int, task_ids: Sequence[int]) -> None:
    """`refresh_prediction_counters` for many locked tasks: one grouped recount per chunk."""
    session.flush()
    delta = 0
    for chunk in _chunks(task_ids):
        recount = {
            int(row[0]): (int(row[1]), row[2])
            for row in session.execute(
                select(Prediction.task_id, func.count(), func.avg(Prediction.score))
                .where(Prediction.task_id.in_(chunk))
                .group_by(Prediction.task_id)
            )
        }
        changes = []
        for task_id, old_total in session.execute(
            select(Task.id, Task.total_predictions).where(Task.id.in_(chunk))
        ):
            total, score = recount.get(task_id, (0, None))
            delta += total - old_total
            changes.append(
                {
                    "id": task_id,
                    "total_predictions": total,
                    "predictions_score": float(score) if score is not None else None,
                }
            )
        if changes:
            session.execute(update(Task), changes)
    bump(session, project_id=project_id, total_predictions_number=delta)


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
            func.coalesce(func.sum(Task.useful_annotations), 0),
        ).where(Task.project_id == project_id, task_filter)  # type: ignore[arg-type]
    ).one()
    tasks, annotations, cancelled, predictions, labeled, with_annotations, useful = (
        int(v) for v in row
    )
    ground_truth = session.scalar(
        select(func.count())
        .select_from(Annotation)
        .join(Task, Task.id == Annotation.task_id)
        .where(Task.project_id == project_id, task_filter, Annotation.ground_truth)  # type: ignore[arg-type]
    )
    bump(
        session,
        project_id=project_id,
        task_number=-tasks,
        total_annotations_number=-annotations,
        useful_annotation_number=-useful,
        skipped_annotations_number=-cancelled,
        total_predictions_number=-predictions,
        finished_task_number=-labeled,
        num_tasks_with_annotations=-with_annotations,
        ground_truth_number=-int(ground_truth or 0),
    )
    return tasks


def apply_overlap(
    session: Session,
    *,
    project_id: int,
    overlap: int,
    skip_queue: str,
    cohort_percentage: int = 100,
) -> int:
    """Give every task of the project its overlap (`task_overlap`: `overlap` for the
    cohort, 1 for the rest) and recompute `is_labeled` to match.

    Label Studio recomputes this when `maximum_annotations` changes; only tasks with at
    least one annotation can change state, so the recount touches those (by index) alone.
    Returns the project's finished-task number afterwards.
    """
    overlap = max(overlap, 1)
    finished = finished_annotation(
        Annotation.was_cancelled, skip_queue=skip_queue, review_status=Annotation.review_status
    )
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
    wanted = task_overlap_sql(Task.inner_id, overlap, cohort_percentage)
    session.execute(
        update(Task)
        .where(Task.project_id == project_id, Task.overlap != wanted)
        .values(overlap=wanted)
        .execution_options(synchronize_session=False)
    )
    annotated = (Task.total_annotations > 0) | (Task.cancelled_annotations > 0)
    session.execute(
        update(Task)
        .where(Task.project_id == project_id, annotated)
        .values(
            is_labeled=annotators >= Task.overlap,
            completed_at=case((annotators >= Task.overlap, newest), else_=None),
        )
        .execution_options(synchronize_session=False)
    )
    labeled = int(
        session.scalar(select(func.count()).where(Task.project_id == project_id, Task.is_labeled))
        or 0
    )
    current = get_project_counts(session, project_ids=[project_id])[project_id]
    bump(
        session,
        project_id=project_id,
        finished_task_number=labeled - current["finished_task_number"],
    )
    return labeled

"""Keeping the analytics rollups current: each source row's contribution, applied as a
difference.

A handler syncs the facts of the rows an event names with what the database holds now
(an annotation, a task's first completion) or with what the event reports (a review, a
task's agreement): the old fact's contribution is taken out of its hour, the new one's is
added, in the same transaction as the event's processed-record, so a redelivered event
changes nothing and the order of events does not matter. All writes of one project take
that project's transaction lock first, so concurrent handlers never both add one row.

`backfill_project` rebuilds a project's annotation facts from its annotations and its
rollups from all its facts, set-based, for data that predates the handlers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from task_svc.analytics import metrics
from task_svc.analytics.models import (
    NO_USER,
    AgreementFact,
    AnnotationFact,
    CompletionFact,
    ReviewFact,
)
from task_svc.annotations.models import Annotation
from task_svc.tasks.models import Task

USER_COUNTERS = (
    "annotations",
    "skipped",
    "lead_time_sum",
    "lead_time_count",
    "tasks_completed",
    "completion_seconds_sum",
    "reviews_accepted",
    "reviews_rejected",
    "accepted_received",
    "rejected_received",
    "agreement_sum",
    "agreement_count",
)
PROJECT_COUNTERS = ("agreement_sum", "agreement_count")

UserKey = tuple[int, int, datetime]
ProjectKey = tuple[int, datetime]


def hour_of(moment: datetime) -> datetime:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass
class Deltas:
    """Differences to add to the rollups, summed per row before they are written."""

    users: dict[UserKey, dict[str, float]]
    projects: dict[ProjectKey, dict[str, float]]

    @classmethod
    def empty(cls) -> Deltas:
        return cls(
            users=defaultdict(lambda: defaultdict(float)),
            projects=defaultdict(lambda: defaultdict(float)),
        )

    def user(self, key: UserKey, sign: int, **values: float) -> None:
        row = self.users[key]
        for name, value in values.items():
            row[name] += sign * value

    def project(self, key: ProjectKey, sign: int, **values: float) -> None:
        row = self.projects[key]
        for name, value in values.items():
            row[name] += sign * value

    def annotation(self, fact: AnnotationFact | dict[str, Any], sign: int) -> None:
        f = _values(fact)
        self.user(
            (f["project_id"], f["user_id"], f["hour"]),
            sign,
            annotations=0 if f["was_cancelled"] else 1,
            skipped=1 if f["was_cancelled"] else 0,
            lead_time_sum=f["lead_time"] or 0.0,
            lead_time_count=0 if f["lead_time"] is None else 1,
        )

    def completion(self, fact: CompletionFact | dict[str, Any], sign: int) -> None:
        f = _values(fact)
        self.user(
            (f["project_id"], f["user_id"], f["hour"]),
            sign,
            tasks_completed=1,
            completion_seconds_sum=f["seconds"],
        )

    def review(self, fact: ReviewFact | dict[str, Any], sign: int) -> None:
        f = _values(fact)
        accepted = 1 if f["accepted"] else 0
        self.user(
            (f["project_id"], f["reviewer_id"], f["hour"]),
            sign,
            reviews_accepted=accepted,
            reviews_rejected=1 - accepted,
        )
        self.user(
            (f["project_id"], f["annotator_id"], f["hour"]),
            sign,
            accepted_received=accepted,
            rejected_received=1 - accepted,
        )

    def agreement(self, fact: AgreementFact | dict[str, Any], sign: int) -> None:
        f = _values(fact)
        self.project(
            (f["project_id"], f["hour"]), sign, agreement_sum=f["agreement"], agreement_count=1
        )
        for user_id in f["annotator_ids"]:
            self.user(
                (f["project_id"], user_id, f["hour"]),
                sign,
                agreement_sum=f["agreement"],
                agreement_count=1,
            )

    def write(self, session: Session) -> None:
        """Add the differences, in key order (concurrent writers of other projects never
        wait on each other in a cycle)."""
        users = [
            {"project_id": p, "user_id": u, "hour": h, **_row(values, USER_COUNTERS)}
            for (p, u, h), values in sorted(self.users.items())
            if any(values.values())
        ]
        if users:
            session.execute(
                _upsert("analytics_user_hours", "project_id, user_id, hour", USER_COUNTERS), users
            )
        projects = [
            {"project_id": p, "hour": h, **_row(values, PROJECT_COUNTERS)}
            for (p, h), values in sorted(self.projects.items())
            if any(values.values())
        ]
        if projects:
            session.execute(
                _upsert("analytics_project_hours", "project_id, hour", PROJECT_COUNTERS), projects
            )


def _values(fact: Any) -> dict[str, Any]:
    if isinstance(fact, dict):
        return fact
    return {column.key: getattr(fact, column.key) for column in fact.__table__.columns}


def _row(values: dict[str, float], counters: Sequence[str]) -> dict[str, float]:
    return {name: values.get(name, 0) for name in counters}


def _upsert(table: str, key: str, counters: Sequence[str]) -> Any:
    columns = ", ".join(counters)
    placeholders = ", ".join(f":{name}" for name in counters)
    keys = ", ".join(f":{name.strip()}" for name in key.split(","))
    additions = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in counters)
    return text(
        f"INSERT INTO {table} ({key}, {columns}) VALUES ({keys}, {placeholders})"  # noqa: S608 - constants
        f" ON CONFLICT ({key}) DO UPDATE SET {additions}"
    )


def lock_project(session: Session, project_id: int) -> None:
    """Serialise this project's analytics writes until the transaction ends."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('labelops.analytics:' || :p, 0))"),
        {"p": str(project_id)},
    )


# ---------------------------------------------------------------------------- annotations


def sync_annotations(session: Session, *, project_id: int, annotation_ids: Iterable[int]) -> None:
    """Bring these annotations' facts (and their tasks' completions) in line with the
    annotations table: a gone annotation takes its contribution back."""
    ids = sorted({int(i) for i in annotation_ids})
    if not ids:
        return
    lock_project(session, project_id)
    deltas = Deltas.empty()
    old = {
        fact.annotation_id: fact
        for fact in session.scalars(
            select(AnnotationFact).where(AnnotationFact.annotation_id.in_(ids))
        )
    }
    rows = session.execute(
        select(
            Annotation.id,
            Annotation.project_id,
            Annotation.task_id,
            Annotation.completed_by_id,
            Annotation.created_at,
            Annotation.was_cancelled,
            Annotation.lead_time,
        ).where(Annotation.id.in_(ids))
    ).all()
    new = [
        {
            "annotation_id": row.id,
            "project_id": row.project_id,
            "task_id": row.task_id,
            "user_id": row.completed_by_id or NO_USER,
            "hour": hour_of(row.created_at),
            "was_cancelled": row.was_cancelled,
            "lead_time": row.lead_time,
        }
        for row in rows
    ]
    for fact in old.values():
        deltas.annotation(fact, -1)
    for values in new:
        deltas.annotation(values, +1)
        if values["annotation_id"] not in old and values["lead_time"] is not None:
            metrics.ANNOTATION_LEAD_TIME.observe(values["lead_time"])
    tasks = {fact.task_id for fact in old.values()} | {values["task_id"] for values in new}
    if old:
        session.execute(delete(AnnotationFact).where(AnnotationFact.annotation_id.in_(list(old))))
    if new:
        session.execute(insert(AnnotationFact), new)
    deltas.write(session)
    sync_completions(session, project_id=project_id, task_ids=tasks)


def sync_completions(session: Session, *, project_id: int, task_ids: Iterable[int]) -> None:
    """A task's completion is its first submitted (not skipped) annotation."""
    ids = sorted({int(i) for i in task_ids})
    if not ids:
        return
    lock_project(session, project_id)
    deltas = Deltas.empty()
    old = {
        fact.task_id: fact
        for fact in session.scalars(select(CompletionFact).where(CompletionFact.task_id.in_(ids)))
    }
    rows = session.execute(
        select(
            Annotation.task_id,
            Annotation.project_id,
            Annotation.id,
            Annotation.completed_by_id,
            Annotation.created_at,
            Task.created_at.label("task_created_at"),
        )
        .join(Task, Task.id == Annotation.task_id)
        .where(Annotation.task_id.in_(ids), Annotation.was_cancelled.is_(False))
        .order_by(Annotation.task_id, Annotation.created_at, Annotation.id)
        .ext(distinct_on(Annotation.task_id))
    ).all()
    new = [
        {
            "task_id": row.task_id,
            "project_id": row.project_id,
            "annotation_id": row.id,
            "user_id": row.completed_by_id or NO_USER,
            "hour": hour_of(row.created_at),
            "seconds": max(0.0, (row.created_at - row.task_created_at).total_seconds()),
        }
        for row in rows
    ]
    for fact in old.values():
        deltas.completion(fact, -1)
    for values in new:
        deltas.completion(values, +1)
    if old:
        session.execute(delete(CompletionFact).where(CompletionFact.task_id.in_(list(old))))
    if new:
        session.execute(insert(CompletionFact), new)
    deltas.write(session)


def forget_deleted_tasks(
    session: Session,
    *,
    project_id: int,
    task_ids: Sequence[int] | None,
    first: int | None,
    last: int | None,
) -> None:
    """Tasks deleted (their annotations went with them, without events of their own):
    take back what their facts added. The payload names the ids, or only their range."""
    lock_project(session, project_id)
    gone = ~select(Task.id).where(Task.id == AnnotationFact.task_id).exists()

    def scope(column: Any) -> Any:
        if task_ids:
            return column.in_(list(task_ids))
        return column.between(first, last)

    annotation_ids = session.scalars(
        select(AnnotationFact.annotation_id).where(
            AnnotationFact.project_id == project_id, scope(AnnotationFact.task_id), gone
        )
    ).all()
    sync_annotations(session, project_id=project_id, annotation_ids=annotation_ids)
    deltas = Deltas.empty()
    facts = session.scalars(
        select(AgreementFact).where(
            AgreementFact.project_id == project_id,
            scope(AgreementFact.task_id),
            ~select(Task.id).where(Task.id == AgreementFact.task_id).exists(),
        )
    ).all()
    for fact in facts:
        deltas.agreement(fact, -1)
        session.delete(fact)
    deltas.write(session)


_ADD_NEW_TASKS = text(
    """
    WITH annotation_facts AS (
        INSERT INTO analytics_annotation_facts
            (annotation_id, project_id, task_id, user_id, hour, was_cancelled, lead_time)
        SELECT id, project_id, task_id, coalesce(completed_by_id, 0),
               date_trunc('hour', created_at, 'UTC'), was_cancelled, lead_time
        FROM annotations
        WHERE project_id = :project_id AND task_id BETWEEN :first AND :last
          AND (CAST(:ids AS bigint[]) IS NULL OR task_id = ANY(CAST(:ids AS bigint[])))
        ON CONFLICT DO NOTHING
        RETURNING user_id, hour, was_cancelled, lead_time
    ), completion_facts AS (
        INSERT INTO analytics_completion_facts
            (task_id, project_id, annotation_id, user_id, hour, seconds)
        SELECT DISTINCT ON (a.task_id) a.task_id, a.project_id, a.id,
               coalesce(a.completed_by_id, 0), date_trunc('hour', a.created_at, 'UTC'),
               greatest(0, extract(epoch FROM a.created_at - t.created_at))
        FROM annotations a JOIN tasks t ON t.id = a.task_id
        WHERE a.project_id = :project_id AND a.task_id BETWEEN :first AND :last
          AND (CAST(:ids AS bigint[]) IS NULL OR a.task_id = ANY(CAST(:ids AS bigint[])))
          AND NOT a.was_cancelled
        ORDER BY a.task_id, a.created_at, a.id
        ON CONFLICT DO NOTHING
        RETURNING user_id, hour, seconds
    )
    INSERT INTO analytics_user_hours (project_id, user_id, hour, annotations, skipped,
        lead_time_sum, lead_time_count, tasks_completed, completion_seconds_sum,
        reviews_accepted, reviews_rejected, accepted_received, rejected_received,
        agreement_sum, agreement_count)
    SELECT :project_id, user_id, hour, sum(a), sum(s), sum(lts), sum(ltc), sum(tc), sum(cs),
           0, 0, 0, 0, 0, 0
    FROM (
        SELECT user_id, hour, (NOT was_cancelled)::int a, was_cancelled::int s,
               coalesce(lead_time, 0) lts, (lead_time IS NOT NULL)::int ltc, 0 tc, 0.0 cs
        FROM annotation_facts
        UNION ALL
        SELECT user_id, hour, 0, 0, 0.0, 0, 1, seconds FROM completion_facts
    ) added
    GROUP BY user_id, hour
    ON CONFLICT (project_id, user_id, hour) DO UPDATE SET
        annotations = analytics_user_hours.annotations + excluded.annotations,
        skipped = analytics_user_hours.skipped + excluded.skipped,
        lead_time_sum = analytics_user_hours.lead_time_sum + excluded.lead_time_sum,
        lead_time_count = analytics_user_hours.lead_time_count + excluded.lead_time_count,
        tasks_completed = analytics_user_hours.tasks_completed + excluded.tasks_completed,
        completion_seconds_sum =
            analytics_user_hours.completion_seconds_sum + excluded.completion_seconds_sum
    """
)


def count_new_tasks(
    session: Session, *, project_id: int, task_ids: Sequence[int] | None, first: int, last: int
) -> None:
    """TASKS_CREATED: annotations that came with the tasks (an import), which publish no
    annotation events, are counted set-based; tasks without annotations cost an index probe.
    Rows with facts already (a redelivery, or a handler that ran first) are left alone."""
    lock_project(session, project_id)
    session.execute(
        _ADD_NEW_TASKS,
        {
            "project_id": project_id,
            "first": first,
            "last": last,
            "ids": list(task_ids) if task_ids else None,
        },
    )


# ------------------------------------------------------------------- reviews and agreement


def _moment(occurred_at: str) -> datetime:
    moment = datetime.fromisoformat(occurred_at)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def record_review(
    session: Session, *, project_id: int, payload: dict[str, Any], occurred_at: str
) -> None:
    """REVIEW_CREATED / REVIEW_UPDATED: the review's outcome as of the event. It counts in
    the hour the review was first given; an older event arriving late changes nothing."""
    review_id = int(payload["review"])
    as_of = _moment(occurred_at)
    lock_project(session, project_id)
    old = session.get(ReviewFact, review_id)
    if old is not None and old.as_of > as_of:
        return
    new = {
        "review_id": review_id,
        "project_id": project_id,
        "reviewer_id": int(payload.get("reviewer") or NO_USER),
        "annotator_id": int(payload.get("annotator") or NO_USER),
        "hour": min(old.hour, hour_of(as_of)) if old is not None else hour_of(as_of),
        "accepted": bool(payload["accepted"]),
        "as_of": as_of,
    }
    deltas = Deltas.empty()
    if old is not None:
        deltas.review(old, -1)
        session.delete(old)
        session.flush()
    if old is None or old.accepted != new["accepted"]:
        metrics.REVIEWS.labels("accepted" if new["accepted"] else "rejected").inc()
    deltas.review(new, +1)
    session.execute(insert(ReviewFact), [new])
    deltas.write(session)


def forget_reviews(
    session: Session, *, project_id: int, review_ids: Iterable[int], occurred_at: str
) -> None:
    """REVIEWS_DELETED: the reviews no longer count (unless reported again later)."""
    as_of = _moment(occurred_at)
    lock_project(session, project_id)
    deltas = Deltas.empty()
    for fact in session.scalars(
        select(ReviewFact).where(ReviewFact.review_id.in_(sorted(set(review_ids))))
    ):
        if fact.as_of <= as_of:
            deltas.review(fact, -1)
            session.delete(fact)
    deltas.write(session)


def record_agreement(
    session: Session, *, project_id: int, task_id: int, agreement: float | None, occurred_at: str
) -> None:
    """TASK_AGREEMENT_UPDATED: the task's agreement counts in the hour it was computed, for
    the project and for each person who submitted an annotation of it then."""
    as_of = _moment(occurred_at)
    lock_project(session, project_id)
    old = session.get(AgreementFact, task_id)
    if old is not None and old.as_of > as_of:
        return
    deltas = Deltas.empty()
    if old is not None:
        deltas.agreement(old, -1)
        session.delete(old)
        session.flush()
    if agreement is not None:
        annotators = sorted(
            user_id
            for user_id in session.scalars(
                select(Annotation.completed_by_id)
                .where(
                    Annotation.task_id == task_id,
                    Annotation.was_cancelled.is_(False),
                    Annotation.completed_by_id.is_not(None),
                )
                .distinct()
            )
            if user_id is not None
        )
        new = {
            "task_id": task_id,
            "project_id": project_id,
            "hour": hour_of(as_of),
            "agreement": float(agreement),
            "annotator_ids": [int(user_id) for user_id in annotators],
            "as_of": as_of,
        }
        deltas.agreement(new, +1)
        session.execute(insert(AgreementFact), [new])
        metrics.TASK_AGREEMENT.observe(float(agreement))
    deltas.write(session)


# ----------------------------------------------------------------------------- backfill

_ANNOTATION_FACTS = text(
    """
    INSERT INTO analytics_annotation_facts
        (annotation_id, project_id, task_id, user_id, hour, was_cancelled, lead_time)
    SELECT id, project_id, task_id, coalesce(completed_by_id, 0),
           date_trunc('hour', created_at, 'UTC'), was_cancelled, lead_time
    FROM annotations WHERE project_id = :project_id
    """
)
_COMPLETION_FACTS = text(
    """
    INSERT INTO analytics_completion_facts
        (task_id, project_id, annotation_id, user_id, hour, seconds)
    SELECT DISTINCT ON (a.task_id) a.task_id, a.project_id, a.id, coalesce(a.completed_by_id, 0),
           date_trunc('hour', a.created_at, 'UTC'),
           greatest(0, extract(epoch FROM a.created_at - t.created_at))
    FROM annotations a JOIN tasks t ON t.id = a.task_id
    WHERE a.project_id = :project_id AND NOT a.was_cancelled
    ORDER BY a.task_id, a.created_at, a.id
    """
)
_USER_HOURS = text(
    """
    INSERT INTO analytics_user_hours (project_id, user_id, hour, annotations, skipped,
        lead_time_sum, lead_time_count, tasks_completed, completion_seconds_sum,
        reviews_accepted, reviews_rejected, accepted_received, rejected_received,
        agreement_sum, agreement_count)
    SELECT :project_id, user_id, hour, sum(a), sum(s), sum(lts), sum(ltc), sum(tc), sum(cs),
           sum(ra), sum(rr), sum(ar), sum(rj), sum(ags), sum(agc)
    FROM (
        SELECT user_id, hour, (NOT was_cancelled)::int a, was_cancelled::int s,
               coalesce(lead_time, 0) lts, (lead_time IS NOT NULL)::int ltc,
               0 tc, 0.0 cs, 0 ra, 0 rr, 0 ar, 0 rj, 0.0 ags, 0 agc
        FROM analytics_annotation_facts WHERE project_id = :project_id
        UNION ALL
        SELECT user_id, hour, 0, 0, 0.0, 0, 1, seconds, 0, 0, 0, 0, 0.0, 0
        FROM analytics_completion_facts WHERE project_id = :project_id
        UNION ALL
        SELECT reviewer_id, hour, 0, 0, 0.0, 0, 0, 0.0, accepted::int, (NOT accepted)::int,
               0, 0, 0.0, 0
        FROM analytics_review_facts WHERE project_id = :project_id
        UNION ALL
        SELECT annotator_id, hour, 0, 0, 0.0, 0, 0, 0.0, 0, 0, accepted::int,
               (NOT accepted)::int, 0.0, 0
        FROM analytics_review_facts WHERE project_id = :project_id
        UNION ALL
        SELECT unnest(annotator_ids), hour, 0, 0, 0.0, 0, 0, 0.0, 0, 0, 0, 0, agreement, 1
        FROM analytics_agreement_facts WHERE project_id = :project_id
    ) contributions
    GROUP BY user_id, hour
    """
)
_PROJECT_HOURS = text(
    """
    INSERT INTO analytics_project_hours (project_id, hour, agreement_sum, agreement_count)
    SELECT :project_id, hour, sum(agreement), count(*)
    FROM analytics_agreement_facts WHERE project_id = :project_id
    GROUP BY hour
    """
)


def rebuild_rollups(session: Session, *, project_id: int) -> None:
    """The project's rollups recomputed from its facts (what the handlers keep by
    differences, summed again from scratch)."""
    lock_project(session, project_id)
    session.execute(
        text("DELETE FROM analytics_user_hours WHERE project_id = :p"), {"p": project_id}
    )
    session.execute(
        text("DELETE FROM analytics_project_hours WHERE project_id = :p"), {"p": project_id}
    )
    session.execute(_USER_HOURS, {"project_id": project_id})
    session.execute(_PROJECT_HOURS, {"project_id": project_id})


#: The tables a backfill grows: `analyze_if_grown` them after its commit, so the handlers'
#: lookups by id are planned against their new sizes.
ANALYZED = (
    "analytics_annotation_facts",
    "analytics_completion_facts",
    "analytics_user_hours",
)


def backfill_project(session: Session, *, project_id: int) -> int:
    """Recompute a project's annotation and completion facts from its annotations, then
    its rollups; reviews and agreement keep the facts their events left. Returns the
    number of annotations counted. Callers commit."""
    lock_project(session, project_id)
    session.execute(delete(AnnotationFact).where(AnnotationFact.project_id == project_id))
    session.execute(delete(CompletionFact).where(CompletionFact.project_id == project_id))
    counted = session.execute(_ANNOTATION_FACTS, {"project_id": project_id})
    session.execute(_COMPLETION_FACTS, {"project_id": project_id})
    rebuild_rollups(session, project_id=project_id)
    return int(getattr(counted, "rowcount", 0) or 0)

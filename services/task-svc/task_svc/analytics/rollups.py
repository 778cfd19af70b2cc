"""Keeping the analytics rollups current: each source row's contribution, applied as a
difference.

A handler syncs the facts of the rows an event names with what the database holds now
(an annotation, a task's first completion) or with what the event reports (a review, a
task's agreement): the old fact's contribution is taken out of its hour, the new one's is
added, in the same transaction as the event's processed-record, so a redelivered event
changes nothing and the order of events does not matter. All writes of one project take
that project's transaction lock first, so concurrent handlers never both add one row.

Set-based work over many rows (annotations imported with their tasks, a project's
backfill) is in `backfill.py`.
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

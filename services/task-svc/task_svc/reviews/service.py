"""Reviewing annotations: verdicts, fixes, their history, and the review stream. Callers commit.

A review is applied in the transaction of its annotation's task (locked, as every writer of
its annotations locks it): the annotation takes the verdict (`review_status`,
`review_comment`, `last_action`), a fix replaces its result (the one before is kept on the
review), and the task's counters are recounted, so a rejection takes the task out of the
done ones and back to its annotator's label stream at once. The event is published in the
same transaction (sent after the commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import PermissionDenied, ValidationFailed
from sqlalchemy import delete, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.orm import Session, aliased

from task_svc.agreement.models import TaskAgreement
from task_svc.annotations import service as annotation_service
from task_svc.annotations.models import Annotation
from task_svc.counts import service as counts
from task_svc.events import publisher
from task_svc.reviews.models import (
    ACCEPTED,
    FIXED_AND_ACCEPTED,
    REJECTED,
    AnnotationReview,
    ReviewLock,
)
from task_svc.tasks.models import Task

#: Candidates read per round of the review stream before trying to hold one.
CANDIDATE_PAGE = 20
#: Rounds of candidates before the stream gives up (each skips ones others just took).
MAX_ROUNDS = 5
#: The answer to a reviewer who asked for a review of their own annotation.
OWN_ANNOTATION = "Nobody reviews their own annotation."


@dataclass(frozen=True)
class Verdict:
    """What a review says, once its create or update body is merged with what it said."""

    accepted: bool
    comment: str | None
    result: list[Any] | None


def check_verdict(verdict: Verdict, project: ProjectInfo) -> None:
    """A rejection needs a reason; only an acceptance fixes the result, and the fix must
    fit the labeling config as an annotation must. Each failure is a 400 naming its field."""
    if not verdict.accepted and not (verdict.comment or "").strip():
        raise ValidationFailed({"comment": ["A rejection needs a reason: say what to change."]})
    if verdict.result is not None:
        if not verdict.accepted:
            raise ValidationFailed({"result": ["Only an accepted review may fix the result."]})
        annotation_service.check_result(project, verdict.result)


def check_reviewable(annotation: Annotation, reviewer_id: int) -> None:
    if annotation.completed_by_id == reviewer_id:
        raise PermissionDenied(validation_errors={"annotation": [OWN_ANNOTATION]})
    if annotation.was_cancelled:
        raise ValidationFailed({"annotation": ["A skipped annotation has nothing to review."]})


def _status(verdict: Verdict) -> str:
    if verdict.result is not None:
        return FIXED_AND_ACCEPTED
    return ACCEPTED if verdict.accepted else REJECTED


def _payload(review: AnnotationReview) -> dict[str, Any]:
    return {
        "review": review.id,
        "annotation": review.annotation_id,
        "task": review.task_id,
        "reviewer": review.reviewer_id,
        "annotator": review.annotator_id,
        "accepted": review.accepted,
    }


def _take_back_fix(review: AnnotationReview, annotation: Annotation) -> bool:
    """Give the annotation back the result a fix replaced (unless it changed since);
    returns whether its result changed."""
    if review.result is None:
        return False
    restored = annotation.result == review.result and review.previous_result is not None
    if restored:
        annotation.result = review.previous_result or []
    review.result = None
    review.previous_result = None
    return restored


def _apply(
    review: AnnotationReview, annotation: Annotation, verdict: Verdict, now: datetime
) -> bool:
    """Write the verdict on the review and on the annotation; returns whether the
    annotation's result changed."""
    changed = _take_back_fix(review, annotation)
    review.accepted = verdict.accepted
    review.comment = verdict.comment
    review.updated_at = now
    if verdict.result is not None:
        review.previous_result = annotation.result
        review.result = verdict.result
        annotation.result = verdict.result
        annotation.updated_by_id = review.reviewer_id
        changed = True
    _show_verdict(annotation, review, now)
    return changed


def _show_verdict(annotation: Annotation, review: AnnotationReview | None, now: datetime) -> None:
    """The annotation carries its newest review's verdict (none once all are gone)."""
    if review is None:
        annotation.review_status = None
        annotation.review_comment = None
        annotation.last_action = "deleted_review"
    else:
        status = _status(Verdict(review.accepted, review.comment, review.result))
        annotation.review_status = status
        annotation.review_comment = review.comment
        annotation.last_action = status
    annotation.updated_at = now


def _recount(
    session: Session,
    *,
    task: Task,
    project: ProjectInfo,
    annotation: Annotation,
    result_changed: bool,
) -> None:
    counts.refresh_annotation_counters(session, task, project, updated_at=utcnow())
    if result_changed:
        publisher.publish_after_commit(
            session,
            publisher.ANNOTATION_UPDATED,
            project_id=task.project_id,
            payload=publisher.annotation_payload(
                annotation_id=annotation.id, task_id=task.id, project_id=task.project_id
            ),
        )


def create_review(
    session: Session,
    *,
    annotation: Annotation,
    task: Task,
    project: ProjectInfo,
    reviewer_id: int,
    verdict: Verdict,
) -> AnnotationReview:
    """Review `annotation` (its `task` locked). The caller checked the reviewer's role."""
    check_reviewable(annotation, reviewer_id)
    check_verdict(verdict, project)
    now = utcnow()
    review = AnnotationReview(
        annotation_id=annotation.id,
        task_id=task.id,
        project_id=task.project_id,
        reviewer_id=reviewer_id,
        annotator_id=annotation.completed_by_id,
        accepted=verdict.accepted,
        created_at=now,
        updated_at=now,
    )
    session.add(review)
    changed = _apply(review, annotation, verdict, now)
    session.execute(delete(ReviewLock).where(ReviewLock.annotation_id == annotation.id))
    session.flush()
    _recount(session, task=task, project=project, annotation=annotation, result_changed=changed)
    publisher.publish_after_commit(
        session, publisher.REVIEW_CREATED, project_id=task.project_id, payload=_payload(review)
    )
    return review


def _newest_review(session: Session, annotation_id: int) -> AnnotationReview | None:
    return session.scalars(
        select(AnnotationReview)
        .where(AnnotationReview.annotation_id == annotation_id)
        .order_by(AnnotationReview.id.desc())
        .limit(1)
    ).first()


def update_review(
    session: Session,
    *,
    review: AnnotationReview,
    annotation: Annotation,
    task: Task,
    project: ProjectInfo,
    verdict: Verdict,
) -> AnnotationReview:
    """Change a verdict. The annotation shows it if it is still the newest review and the
    author has not changed the annotation since (then a new review is due instead)."""
    check_verdict(verdict, project)
    now = utcnow()
    newest = _newest_review(session, annotation.id)
    standing = newest is not None and newest.id == review.id and annotation.review_status
    if standing:
        changed = _apply(review, annotation, verdict, now)
    else:
        review.accepted, review.comment, review.updated_at = verdict.accepted, verdict.comment, now
        if verdict.result is not None:
            raise ValidationFailed({"result": ["Only the standing review may fix the result."]})
        changed = _take_back_fix(review, annotation)
    session.flush()
    _recount(session, task=task, project=project, annotation=annotation, result_changed=changed)
    publisher.publish_after_commit(
        session, publisher.REVIEW_UPDATED, project_id=task.project_id, payload=_payload(review)
    )
    return review


def delete_review(
    session: Session,
    *,
    review: AnnotationReview,
    annotation: Annotation,
    task: Task,
    project: ProjectInfo,
) -> None:
    """Remove a review: a fix it made is taken back, and the annotation shows the newest
    review left (if the removed one was the standing verdict)."""
    payload = _payload(review)
    newest = _newest_review(session, annotation.id)
    standing = newest is not None and newest.id == review.id and annotation.review_status
    changed = _take_back_fix(review, annotation)
    session.delete(review)
    session.flush()
    if standing:
        _show_verdict(annotation, _newest_review(session, annotation.id), utcnow())
    _recount(session, task=task, project=project, annotation=annotation, result_changed=changed)
    publisher.publish_after_commit(
        session,
        publisher.REVIEWS_DELETED,
        project_id=task.project_id,
        payload={**payload, "reviews": [payload["review"]]},
    )


def get_review(session: Session, review_id: int) -> AnnotationReview | None:
    return session.get(AnnotationReview, review_id)


def list_reviews(
    session: Session,
    *,
    project_id: int,
    annotation_id: int | None = None,
    task_id: int | None = None,
    annotator_id: int | None = None,
    limit: int,
    offset: int = 0,
    newest_first: bool = False,
) -> list[AnnotationReview]:
    """A project's reviews (of one annotation or task, or of one annotator's work), in
    the order they were made: an annotation's history."""
    query = select(AnnotationReview).where(AnnotationReview.project_id == project_id)
    if annotation_id is not None:
        query = query.where(AnnotationReview.annotation_id == annotation_id)
    if task_id is not None:
        query = query.where(AnnotationReview.task_id == task_id)
    if annotator_id is not None:
        query = query.where(AnnotationReview.annotator_id == annotator_id)
    order = AnnotationReview.id.desc() if newest_first else AnnotationReview.id.asc()
    return list(session.scalars(query.order_by(order).limit(limit).offset(offset)))


# ------------------------------------------------------------------------ the review stream


def _candidate_page(session: Session, awaiting: list[Any], tried: list[int]) -> list[int]:
    """The next annotations to offer: those of tasks the agreement routes to review
    (`task_agreements.needs_review`, below the project's threshold) first, then the rest;
    oldest first within each. Two index-bounded queries rather than one sort over every
    annotation awaiting review."""
    query = select(Annotation.id).where(*awaiting)
    if tried:
        query = query.where(Annotation.id.not_in(tried))
    low_agreement = exists(
        select(1).where(
            TaskAgreement.task_id == Annotation.task_id, TaskAgreement.needs_review.is_(True)
        )
    )
    first = list(
        session.scalars(
            query.where(low_agreement).order_by(Annotation.id.asc()).limit(CANDIDATE_PAGE)
        )
    )
    if len(first) == CANDIDATE_PAGE:
        return first
    rest = session.scalars(
        query.where(~low_agreement).order_by(Annotation.id.asc()).limit(CANDIDATE_PAGE - len(first))
    )
    return first + list(rest)


@dataclass(frozen=True)
class NextReview:
    annotation: Annotation
    task: Task
    lock: ReviewLock


def _awaiting(project: ProjectInfo, reviewer_id: int, now: datetime) -> list[Any]:
    """An annotation awaiting review by this reviewer: submitted, without a verdict, not
    theirs, not held by another reviewer. (The first two match the partial index
    `ix_annotations_project_id_unreviewed`.)"""
    other = aliased(ReviewLock)
    held_by_other = exists(
        select(1)
        .where(
            other.annotation_id == Annotation.id,
            other.reviewer_id != reviewer_id,
            other.expires_at > now,
        )
        .correlate(Annotation)
    )
    return [
        Annotation.project_id == project.id,
        Annotation.review_status.is_(None),
        ~Annotation.was_cancelled,
        or_(Annotation.completed_by_id.is_(None), Annotation.completed_by_id != reviewer_id),
        ~held_by_other,
    ]


def _hold(
    session: Session, *, annotation_id: int, project_id: int, reviewer_id: int, expires_at: datetime
) -> bool:
    """Hold the annotation for the reviewer unless another reviewer holds it unexpired.
    One statement: of two reviewers racing for it, the second sees the first's lock."""
    table: Any = ReviewLock.__table__
    statement = postgresql_insert(table).values(
        annotation_id=annotation_id,
        reviewer_id=reviewer_id,
        project_id=project_id,
        expires_at=expires_at,
    )
    upsert = statement.on_conflict_do_update(
        index_elements=[table.c.annotation_id],
        set_={"reviewer_id": reviewer_id, "expires_at": expires_at},
        where=or_(table.c.expires_at <= utcnow(), table.c.reviewer_id == reviewer_id),
    ).returning(table.c.annotation_id)
    return session.execute(upsert).first() is not None


def next_review(
    session: Session, *, project: ProjectInfo, reviewer_id: int, ttl_seconds: int
) -> NextReview | None:
    """The annotation the reviewer should review next, held for them; None when none is
    left. The one they already hold comes first; holding another lets that one go."""
    now = utcnow()
    expires_at = now + timedelta(seconds=ttl_seconds)
    awaiting = _awaiting(project, reviewer_id, now)
    held = session.scalar(
        select(Annotation.id)
        .join(ReviewLock, ReviewLock.annotation_id == Annotation.id)
        .where(
            ReviewLock.reviewer_id == reviewer_id,
            ReviewLock.project_id == project.id,
            ReviewLock.expires_at > now,
            *awaiting,
        )
        .limit(1)
    )
    candidates: list[int] = [held] if held is not None else []
    tried: list[int] = []
    for _ in range(MAX_ROUNDS):
        if not candidates:
            candidates = _candidate_page(session, awaiting, tried)
            if not candidates:
                return None
        for annotation_id in candidates:
            if _hold(
                session,
                annotation_id=annotation_id,
                project_id=project.id,
                reviewer_id=reviewer_id,
                expires_at=expires_at,
            ):
                session.execute(
                    delete(ReviewLock).where(
                        ReviewLock.reviewer_id == reviewer_id,
                        ReviewLock.project_id == project.id,
                        ReviewLock.annotation_id != annotation_id,
                    )
                )
                annotation = session.get(Annotation, annotation_id, populate_existing=True)
                lock = session.get(ReviewLock, annotation_id, populate_existing=True)
                if annotation is None or lock is None:  # pragma: no cover - deleted meanwhile
                    continue
                task = session.get(Task, annotation.task_id)
                if task is None:  # pragma: no cover
                    continue
                return NextReview(annotation=annotation, task=task, lock=lock)
        tried += candidates
        if held is not None:  # the one they held was reviewed meanwhile: a fresh page
            held = None
        elif len(candidates) < CANDIDATE_PAGE:
            return None
        candidates = []
    return None

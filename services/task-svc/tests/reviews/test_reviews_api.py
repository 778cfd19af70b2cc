"""`/api/annotation-reviews/`: accept, reject with a reason, fix and accept, history,
changes and removal, with the database state after each request."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from task_svc.annotations.models import Annotation
from task_svc.counts.models import ProjectCounters
from task_svc.reviews.models import AnnotationReview
from task_svc.tasks.models import Task

from .conftest import Reviewing, region


def _state(stack: Any, annotation_id: int) -> tuple[Annotation, Task, int]:
    """The annotation, its task, and how many reviews it has, as committed."""
    with stack.task_runtime.database.session() as session:
        annotation = session.get(Annotation, annotation_id)
        assert annotation is not None
        task = session.get(Task, annotation.task_id)
        assert task is not None
        reviews = session.scalar(
            select(func.count())
            .select_from(AnnotationReview)
            .where(AnnotationReview.annotation_id == annotation_id)
        )
        session.expunge_all()
        return annotation, task, int(reviews or 0)


def _finished(stack: Any, project_id: int) -> int:
    with stack.task_runtime.database.session() as session:
        found = session.scalar(
            select(ProjectCounters.finished_task_number).where(
                ProjectCounters.project_id == project_id
            )
        )
        return int(found or 0)


def _review(client: TestClient, actor: Any, **body: Any) -> Any:
    return client.post("/api/annotation-reviews/", json=body, headers=actor.headers)


def test_accept_marks_the_annotation_and_counts_the_task(
    client: TestClient, stack: Any, cast: Any, reviewing: Reviewing
) -> None:
    annotation_id = reviewing.annotate(client, cast.annotator, reviewing.task_ids[0])
    answer = _review(client, reviewing.reviewer, annotation=annotation_id, accepted=True)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["annotation"] == annotation_id
    assert body["accepted"] is True
    assert body["created_by"] == reviewing.reviewer.user_id
    assert body["annotator"] == cast.annotator.user_id
    assert body["result"] is None and body["comment"] is None
    annotation, task, reviews = _state(stack, annotation_id)
    assert (annotation.review_status, annotation.last_action, reviews) == (
        "accepted",
        "accepted",
        1,
    )
    assert (task.reviews_accepted, task.reviews_rejected, task.reviewed) == (1, 0, True)
    assert task.is_labeled
    shown = client.get(f"/api/annotations/{annotation_id}", headers=cast.annotator.headers)
    assert shown.json()["review_status"] == "accepted"


def test_reject_needs_a_reason_and_changes_nothing_without_one(
    client: TestClient, stack: Any, cast: Any, reviewing: Reviewing
) -> None:
    annotation_id = reviewing.annotate(client, cast.annotator, reviewing.task_ids[0])
    for comment in (None, "", "   "):
        answer = _review(
            client, reviewing.reviewer, annotation=annotation_id, accepted=False, comment=comment
        )
        assert answer.status_code == 400, answer.text
        assert "comment" in answer.json()["validation_errors"]
    annotation, task, reviews = _state(stack, annotation_id)
    assert (annotation.review_status, reviews) == (None, 0)
    assert task.is_labeled and not task.reviewed


def test_rejection_returns_the_task_to_its_annotator_with_the_reason(
    client: TestClient, stack: Any, cast: Any, reviewing: Reviewing
) -> None:
    task_id = reviewing.task_ids[1]
    annotation_id = reviewing.annotate(client, cast.annotator, task_id)
    assert _finished(stack, reviewing.project_id) == 1
    answer = _review(
        client,
        reviewing.reviewer,
        annotation=annotation_id,
        accepted=False,
        comment="The text is negative.",
    )
    assert answer.status_code == 201, answer.text
    annotation, task, _ = _state(stack, annotation_id)
    assert (annotation.review_status, annotation.review_comment) == (
        "rejected",
        "The text is negative.",
    )
    assert not task.is_labeled and task.completed_at is None
    assert (task.reviews_accepted, task.reviews_rejected, task.reviewed) == (0, 1, True)
    assert _finished(stack, reviewing.project_id) == 0

    # The annotator's label stream offers the task first, with their annotation and why.
    offered = client.get(
        f"/api/projects/{reviewing.project_id}/next", headers=cast.annotator.headers
    )
    assert offered.status_code == 200, offered.text
    assert offered.json()["id"] == task_id
    assert offered.json()["queue"] == "Rejected queue"
    [shown] = offered.json()["annotations"]
    assert shown["id"] == annotation_id
    assert shown["review_status"] == "rejected"
    assert shown["review_comment"] == "The text is negative."
    # Nobody else gets the rejected annotation's own task as "theirs".
    other = client.get(
        f"/api/projects/{reviewing.project_id}/next", headers=cast.annotator2.headers
    )
    assert other.json()["annotations"] == []

    # The annotator redoes it: the task is done again and awaits a new verdict.
    redone = client.patch(
        f"/api/annotations/{annotation_id}",
        json={"result": [region("Negative")]},
        headers=cast.annotator.headers,
    )
    assert redone.status_code == 200, redone.text
    annotation, task, _ = _state(stack, annotation_id)
    assert annotation.review_status is None and annotation.review_comment is None
    assert task.is_labeled and not task.reviewed
    assert (task.reviews_accepted, task.reviews_rejected) == (0, 0)
    assert _finished(stack, reviewing.project_id) == 1
    again = client.get(
        f"/api/projects/{reviewing.project_id}/next-review", headers=reviewing.reviewer.headers
    )
    assert again.json()["annotation"]["id"] == annotation_id
    assert [h["accepted"] for h in again.json()["history"]] == [False]


def test_fix_and_accept_keeps_the_original_in_history(
    client: TestClient, stack: Any, cast: Any, reviewing: Reviewing
) -> None:
    annotation_id = reviewing.annotate(client, cast.annotator, reviewing.task_ids[0], "Positive")
    wrong = _review(
        client,
        reviewing.reviewer,
        annotation=annotation_id,
        accepted=True,
        result=[region("Furious")],
    )
    assert wrong.status_code == 400, wrong.text
    assert "result" in wrong.json()["validation_errors"]
    rejected_fix = _review(
        client,
        reviewing.reviewer,
        annotation=annotation_id,
        accepted=False,
        comment="no",
        result=[region("Negative")],
    )
    assert rejected_fix.status_code == 400
    assert "result" in rejected_fix.json()["validation_errors"]
    assert _state(stack, annotation_id)[2] == 0

    fixed = _review(
        client,
        reviewing.reviewer,
        annotation=annotation_id,
        accepted=True,
        result=[region("Negative")],
        comment="It was negative.",
    )
    assert fixed.status_code == 201, fixed.text
    assert fixed.json()["result"] == [region("Negative")]
    assert fixed.json()["previous_annotation_history_result"] == [region("Positive")]
    assert fixed.json()["fixed_annotation_history"] == fixed.json()["id"]
    annotation, task, _ = _state(stack, annotation_id)
    assert annotation.result == [region("Negative")]
    assert annotation.review_status == "fixed_and_accepted"
    assert annotation.updated_by_id == reviewing.reviewer.user_id
    assert annotation.completed_by_id == cast.annotator.user_id
    assert (task.reviews_accepted, task.reviewed, task.is_labeled) == (1, True, True)

    history = client.get(
        f"/api/annotation-reviews/?annotation={annotation_id}", headers=cast.annotator.headers
    )
    assert history.status_code == 200, history.text
    [entry] = history.json()
    assert entry["previous_annotation_history_result"] == [region("Positive")]

    # Taking the review back gives the annotator's result back.
    removed = client.delete(
        f"/api/annotation-reviews/{fixed.json()['id']}", headers=reviewing.reviewer.headers
    )
    assert removed.status_code == 204
    annotation, task, reviews = _state(stack, annotation_id)
    assert annotation.result == [region("Positive")]
    assert (annotation.review_status, annotation.last_action, reviews) == (
        None,
        "deleted_review",
        0,
    )
    assert (task.reviews_accepted, task.reviewed) == (0, False)


def test_a_review_changed_from_accept_to_reject_needs_its_reason(
    client: TestClient, stack: Any, cast: Any, reviewing: Reviewing
) -> None:
    annotation_id = reviewing.annotate(client, cast.annotator, reviewing.task_ids[0])
    review_id = _review(client, reviewing.reviewer, annotation=annotation_id, accepted=True).json()[
        "id"
    ]
    refused = client.patch(
        f"/api/annotation-reviews/{review_id}",
        json={"accepted": False},
        headers=reviewing.reviewer.headers,
    )
    assert refused.status_code == 400
    assert "comment" in refused.json()["validation_errors"]
    assert _state(stack, annotation_id)[0].review_status == "accepted"
    changed = client.patch(
        f"/api/annotation-reviews/{review_id}",
        json={"accepted": False, "comment": "Second thoughts."},
        headers=reviewing.reviewer.headers,
    )
    assert changed.status_code == 200, changed.text
    annotation, task, reviews = _state(stack, annotation_id)
    assert (annotation.review_status, annotation.review_comment, reviews) == (
        "rejected",
        "Second thoughts.",
        1,
    )
    assert (task.reviews_accepted, task.reviews_rejected, task.is_labeled) == (0, 1, False)
    # Another reviewer may not change it; a manager may.
    other = client.patch(
        f"/api/annotation-reviews/{review_id}",
        json={"accepted": True},
        headers=reviewing.reviewer2.headers,
    )
    assert other.status_code == 403
    managed = client.patch(
        f"/api/annotation-reviews/{review_id}",
        json={"accepted": True},
        headers=cast.manager.headers,
    )
    assert managed.status_code == 200
    assert _state(stack, annotation_id)[0].review_status == "accepted"

"""Who may review: reviewers, managers and up, never on their own annotation; the permission
matrix spelled out, with nothing written by a refused request."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from task_svc.reviews.models import AnnotationReview

from .conftest import Reviewing


def _reviews(stack: Any, project_id: int) -> int:
    with stack.task_runtime.database.session() as session:
        found = session.scalar(
            select(func.count())
            .select_from(AnnotationReview)
            .where(AnnotationReview.project_id == project_id)
        )
        return int(found or 0)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 201),
        ("manager", 201),
        ("reviewer", 201),
        ("annotator2", 403),
        ("outsider", 404),
        ("anonymous", 401),
    ],
)
def test_who_may_review(
    client: TestClient, stack: Any, cast: Any, reviewing: Reviewing, who: str, status: int
) -> None:
    annotation_id = reviewing.annotate(client, cast.annotator, reviewing.task_ids[0])
    actor = reviewing.reviewer if who == "reviewer" else getattr(cast, who, None)
    headers = actor.headers if actor is not None else {}
    answer = client.post(
        "/api/annotation-reviews/",
        json={"annotation": annotation_id, "accepted": True},
        headers=headers,
    )
    assert answer.status_code == status, answer.text
    assert _reviews(stack, reviewing.project_id) == (1 if status == 201 else 0)
    stream = client.get(f"/api/projects/{reviewing.project_id}/next-review", headers=headers)
    assert stream.status_code == (404 if status == 201 else status)


def test_nobody_reviews_their_own_annotation(
    client: TestClient, stack: Any, cast: Any, reviewing: Reviewing
) -> None:
    owned = {
        actor.user_id: reviewing.annotate(client, actor, reviewing.task_ids[1])
        for actor in (reviewing.reviewer, cast.manager)
    }
    for actor in (reviewing.reviewer, cast.manager):
        own = owned[actor.user_id]
        answer = client.post(
            "/api/annotation-reviews/",
            json={"annotation": own, "accepted": True},
            headers=actor.headers,
        )
        assert answer.status_code == 403, answer.text
        assert "annotation" in answer.json()["validation_errors"]
        # The review stream offers them the other's, never their own.
        stream = client.get(
            f"/api/projects/{reviewing.project_id}/next-review", headers=actor.headers
        )
        assert stream.status_code == 200
        assert stream.json()["annotation"]["id"] == next(a for a in owned.values() if a != own)
    assert _reviews(stack, reviewing.project_id) == 0


def test_an_annotator_sees_the_reviews_of_their_own_work_only(
    client: TestClient, cast: Any, reviewing: Reviewing
) -> None:
    mine = reviewing.annotate(client, cast.annotator, reviewing.task_ids[0])
    theirs = reviewing.annotate(client, cast.annotator2, reviewing.task_ids[0])
    made = {}
    for annotation_id in (mine, theirs):
        answer = client.post(
            "/api/annotation-reviews/",
            json={"annotation": annotation_id, "accepted": False, "comment": "Redo"},
            headers=reviewing.reviewer.headers,
        )
        assert answer.status_code == 201, answer.text
        made[annotation_id] = answer.json()["id"]
    listed = client.get(
        f"/api/annotation-reviews/?project={reviewing.project_id}",
        headers=cast.annotator.headers,
    )
    assert [r["annotation"] for r in listed.json()] == [mine]
    everyone = client.get(
        f"/api/annotation-reviews/?project={reviewing.project_id}",
        headers=reviewing.reviewer.headers,
    )
    assert [r["annotation"] for r in everyone.json()] == [mine, theirs]
    own = client.get(f"/api/annotation-reviews/{made[mine]}", headers=cast.annotator.headers)
    assert own.status_code == 200
    other = client.get(f"/api/annotation-reviews/{made[theirs]}", headers=cast.annotator.headers)
    assert other.status_code == 404
    outsider = client.get(f"/api/annotation-reviews/{made[mine]}", headers=cast.outsider.headers)
    assert outsider.status_code == 404
    # An annotator cannot delete a review (not even of their own work).
    refused = client.delete(f"/api/annotation-reviews/{made[mine]}", headers=cast.annotator.headers)
    assert refused.status_code == 403


def test_listing_needs_a_scope(client: TestClient, reviewing: Reviewing) -> None:
    answer = client.get("/api/annotation-reviews/", headers=reviewing.reviewer.headers)
    assert answer.status_code == 400
    assert "annotation" in answer.json()["validation_errors"]

"""Review events end to end: a review through the REST API commits, then the embedded Celery
worker delivers REVIEW_CREATED / REVIEW_UPDATED / REVIEWS_DELETED with Label Studio
Enterprise's payload; a refused review publishes nothing."""

from __future__ import annotations

from typing import Any

from labelops_common import events
from labelops_common.auth.principal import Role
from labelops_testing.actors import create_actor

SECRET = "task-svc-test-secret-key-0123456789abcdefghij"
RESULT = [
    {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


def test_reviews_emit_their_events_after_commit(
    client: Any, stack: Any, cast: Any, make_project: Any, inbox: Any
) -> None:
    project_id = make_project()
    task = client.post(
        "/api/tasks",
        json={"project": project_id, "data": {"text": "hi"}},
        headers=cast.owner.headers,
    ).json()["id"]
    annotation = client.post(
        f"/api/tasks/{task}/annotations", json={"result": RESULT}, headers=cast.annotator.headers
    ).json()["id"]
    reviewer = create_actor(
        stack.project_runtime.database,
        organization_id=cast.owner.organization_id,
        role=Role.REVIEWER,
        secret=SECRET,
    )
    refused = client.post(
        "/api/annotation-reviews",
        json={"annotation": annotation, "accepted": False},
        headers=cast.manager.headers,
    )
    assert refused.status_code == 400
    created = client.post(
        "/api/annotation-reviews",
        json={"annotation": annotation, "accepted": False, "comment": "Not positive."},
        headers=cast.manager.headers,
    )
    assert created.status_code == 201, created.text
    review = created.json()["id"]
    expected = {
        "review": review,
        "annotation": annotation,
        "task": task,
        "reviewer": cast.manager.user_id,
        "annotator": cast.annotator.user_id,
        "accepted": False,
    }
    (made,) = inbox.wait_for(events.REVIEW_CREATED, project_id=project_id)
    assert made.payload == expected
    updated = client.patch(
        f"/api/annotation-reviews/{review}", json={"accepted": True}, headers=cast.manager.headers
    )
    assert updated.status_code == 200, updated.text
    (changed,) = inbox.wait_for(events.REVIEW_UPDATED, project_id=project_id)
    assert changed.payload == {**expected, "accepted": True}
    # A reviewer who is no member of the project does not see it; its maker removes it.
    assert (
        client.delete(f"/api/annotation-reviews/{review}", headers=reviewer.headers).status_code
        == 404
    )
    assert (
        client.delete(f"/api/annotation-reviews/{review}", headers=cast.manager.headers).status_code
        == 204
    )
    (deleted,) = inbox.wait_for(events.REVIEWS_DELETED, project_id=project_id)
    assert deleted.payload == {**expected, "accepted": True, "reviews": [review]}
    assert len(inbox.of(events.REVIEW_CREATED, project_id=project_id)) == 1

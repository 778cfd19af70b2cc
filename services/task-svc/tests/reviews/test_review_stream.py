"""The review stream: unreviewed annotations oldest first, never the reviewer's own, never
one another reviewer holds; and the data manager's review columns."""

from __future__ import annotations

import json
import threading
from typing import Any

from fastapi.testclient import TestClient

from .conftest import Reviewing


def _next(client: TestClient, actor: Any, project_id: int) -> Any:
    return client.get(f"/api/projects/{project_id}/next-review/", headers=actor.headers)


def test_oldest_first_held_per_reviewer_and_released_on_review(
    client: TestClient, cast: Any, reviewing: Reviewing
) -> None:
    first = reviewing.annotate(client, cast.annotator, reviewing.task_ids[0])
    second = reviewing.annotate(client, cast.annotator2, reviewing.task_ids[0])
    skipped = client.post(
        f"/api/tasks/{reviewing.task_ids[1]}/annotations",
        json={"result": [], "was_cancelled": True},
        headers=cast.annotator.headers,
    )
    assert skipped.status_code == 201

    a = _next(client, reviewing.reviewer, reviewing.project_id)
    assert a.status_code == 200, a.text
    assert a.json()["annotation"]["id"] == first
    assert a.json()["task"]["id"] == reviewing.task_ids[0]
    assert a.json()["task"]["data"] == {"text": "text 0"}
    assert a.json()["history"] == []
    # The first is held for reviewer A: reviewer B gets the second, A keeps the first.
    b = _next(client, reviewing.reviewer2, reviewing.project_id)
    assert b.json()["annotation"]["id"] == second
    assert _next(client, reviewing.reviewer, reviewing.project_id).json()["annotation"]["id"] == (
        first
    )
    # Nothing else is left for a third reviewer (skips are not reviewed).
    assert _next(client, cast.manager, reviewing.project_id).status_code == 404

    done = client.post(
        "/api/annotation-reviews/",
        json={"annotation": first, "accepted": True},
        headers=reviewing.reviewer.headers,
    )
    assert done.status_code == 201
    assert _next(client, reviewing.reviewer, reviewing.project_id).status_code == 404
    nothing = _next(client, cast.manager, reviewing.project_id)
    assert nothing.status_code == 404
    assert nothing.json()["detail"]


def _ids(client: TestClient, cast: Any, project_id: int, items: list[dict[str, Any]]) -> list[int]:
    query = json.dumps({"filters": {"conjunction": "and", "items": items}})
    answer = client.get(
        "/api/tasks",
        params={"project": project_id, "query": query},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 200, answer.text
    return [task["id"] for task in answer.json()["tasks"]]


def test_data_manager_review_columns_filter_and_show(
    client: TestClient, cast: Any, reviewing: Reviewing
) -> None:
    t0, t1, t2 = reviewing.task_ids
    accepted = reviewing.annotate(client, cast.annotator, t0)
    rejected = reviewing.annotate(client, cast.annotator, t1)
    reviewing.annotate(client, cast.annotator, t2)
    for annotation_id, verdict, actor in (
        (accepted, {"accepted": True}, reviewing.reviewer),
        (rejected, {"accepted": False, "comment": "wrong"}, reviewing.reviewer2),
    ):
        answer = client.post(
            "/api/annotation-reviews/",
            json={"annotation": annotation_id, **verdict},
            headers=actor.headers,
        )
        assert answer.status_code == 201, answer.text

    def item(column: str, operator: str, kind: str, value: Any) -> dict[str, Any]:
        return {
            "filter": f"filter:tasks:{column}",
            "operator": operator,
            "type": kind,
            "value": value,
        }

    project = reviewing.project_id
    assert _ids(client, cast, project, [item("reviews_accepted", "greater", "Number", 0)]) == [t0]
    assert _ids(client, cast, project, [item("reviews_rejected", "equal", "Number", 1)]) == [t1]
    assert _ids(client, cast, project, [item("reviewed", "equal", "Boolean", True)]) == [t0, t1]
    assert _ids(client, cast, project, [item("reviewed", "equal", "Boolean", False)]) == [t2]
    reviewer2 = reviewing.reviewer2.user_id
    assert _ids(client, cast, project, [item("reviewers", "contains", "List", reviewer2)]) == [t1]
    assert _ids(client, cast, project, [item("reviewers", "empty", "List", True)]) == [t2]
    bad = client.get(
        "/api/tasks",
        params={
            "project": project,
            "query": json.dumps(
                {
                    "filters": {
                        "conjunction": "and",
                        "items": [item("reviewers", "contains", "List", "x")],
                    }
                }
            ),
        },
        headers=cast.owner.headers,
    )
    assert bad.status_code == 400
    ordered = client.get(
        "/api/tasks",
        params={"project": project, "query": json.dumps({"ordering": ["-tasks:reviews_rejected"]})},
        headers=cast.owner.headers,
    )
    rows = ordered.json()["tasks"]
    assert rows[0]["id"] == t1
    by_id = {row["id"]: row for row in rows}
    assert by_id[t0]["reviewers"] == [reviewing.reviewer.user_id]
    assert (by_id[t0]["reviews_accepted"], by_id[t0]["reviewed"]) == (1, True)
    assert (by_id[t1]["reviews_rejected"], by_id[t2]["reviewed"]) == (1, False)
    columns = client.get(f"/api/dm/columns?project={project}", headers=cast.owner.headers)
    names = {column["id"] for column in columns.json()["columns"]}
    assert {"reviewed", "reviewers", "reviews_accepted", "reviews_rejected"} <= names


def test_reviewers_asking_at_once_get_different_annotations(
    client: TestClient, cast: Any, reviewing: Reviewing
) -> None:
    """Two reviewers racing for the oldest annotation: one holds it, the other gets the next."""
    annotations = [
        reviewing.annotate(client, cast.annotator, task_id) for task_id in reviewing.task_ids[:2]
    ]
    barrier = threading.Barrier(2)
    got: dict[int, int] = {}

    def ask(actor: Any) -> None:
        barrier.wait()
        answer = _next(client, actor, reviewing.project_id)
        assert answer.status_code == 200, answer.text
        got[actor.user_id] = answer.json()["annotation"]["id"]

    threads = [
        threading.Thread(target=ask, args=(actor,))
        for actor in (reviewing.reviewer, reviewing.reviewer2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(got.values()) == sorted(annotations)


def test_tasks_the_agreement_routes_to_review_come_first(
    client: TestClient, cast: Any, reviewing: Reviewing, stack: Any
) -> None:
    """A task below the project's agreement threshold (`needs_review`) is offered before
    older annotations; the others follow oldest first."""
    from sqlalchemy import update
    from task_svc.agreement.models import TaskAgreement

    t0, t1, t2 = reviewing.task_ids
    oldest = reviewing.annotate(client, cast.annotator, t0)
    routed = reviewing.annotate(client, cast.annotator, t2)
    middle = reviewing.annotate(client, cast.annotator, t1)
    with stack.task_runtime.database.session() as session:
        for task_id in (t0, t1, t2):
            session.merge(TaskAgreement(task_id=task_id, project_id=reviewing.project_id))
        session.flush()
        session.execute(
            update(TaskAgreement)
            .where(TaskAgreement.task_id == t2)
            .values(agreement=0.2, needs_review=True)
        )
        session.commit()
    offered = [
        _next(client, reviewer, reviewing.project_id).json()["annotation"]["id"]
        for reviewer in (reviewing.reviewer, reviewing.reviewer2, cast.manager)
    ]
    assert offered == [routed, oldest, middle]

"""The label stream over HTTP: queues, locks, skips, postpones, overlap, races, permissions."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from labelops_common.db import utcnow
from sqlalchemy import select, update
from task_svc.annotations.models import Annotation
from task_svc.labelstream.models import TaskLock

NEXT_KEYS = {
    "id",
    "data",
    "meta",
    "project",
    "created_at",
    "updated_at",
    "updated_by",
    "is_labeled",
    "overlap",
    "file_upload",
    "inner_id",
    "total_annotations",
    "cancelled_annotations",
    "total_predictions",
    "comment_count",
    "unresolved_comment_count",
    "last_comment_updated_at",
    "comment_authors",
    "predictions",
    "annotations",
    "drafts",
    "unique_lock_id",
    "queue",
}


def region(choice: str = "Positive") -> dict[str, Any]:
    return {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [choice]},
    }


def make_tasks(client: TestClient, cast: Any, project_id: int, count: int) -> list[int]:
    ids = []
    for number in range(count):
        answer = client.post(
            "/api/tasks",
            json={"project": project_id, "data": {"text": f"text {number}"}},
            headers=cast.owner.headers,
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    return ids


def next_of(client: TestClient, actor: Any, project_id: int, **kwargs: Any) -> dict[str, Any]:
    if "json" in kwargs:
        answer = client.post(f"/api/projects/{project_id}/next", headers=actor.headers, **kwargs)
    else:
        answer = client.get(f"/api/projects/{project_id}/next", headers=actor.headers, **kwargs)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def nothing_left(client: TestClient, actor: Any, project_id: int) -> bool:
    answer = client.get(f"/api/projects/{project_id}/next/", headers=actor.headers)
    if answer.status_code == 404:
        assert answer.json()["detail"]
        return True
    assert answer.status_code == 200, answer.text
    return False


def submit(client: TestClient, actor: Any, task_id: int, **body: Any) -> None:
    answer = client.post(
        f"/api/tasks/{task_id}/annotations",
        json={"result": [] if body.get("was_cancelled") else [region()], **body},
        headers=actor.headers,
    )
    assert answer.status_code == 201, answer.text


def locks_of(stack: Any, project_id: int) -> dict[int, list[int]]:
    """user id -> task ids they hold (unexpired)."""
    held: dict[int, list[int]] = {}
    with stack.task_runtime.database.session() as session:
        for lock in session.scalars(
            select(TaskLock)
            .where(TaskLock.project_id == project_id, TaskLock.expires_at > utcnow())
            .order_by(TaskLock.task_id)
        ):
            held.setdefault(lock.user_id, []).append(lock.task_id)
    return held


def test_sequential_queue_shape_and_lock(
    client: TestClient, cast: Any, stack: Any, make_project: Any
) -> None:
    project_id = make_project()
    ids = make_tasks(client, cast, project_id, 3)
    prediction = client.post(
        "/api/predictions",
        json={"task": ids[0], "result": [region()], "score": 0.5, "model_version": "m1"},
        headers=cast.owner.headers,
    )
    assert prediction.status_code == 201
    first = next_of(client, cast.annotator, project_id)
    assert set(first) == NEXT_KEYS
    assert first["id"] == ids[0]
    assert first["queue"] == "Sequence queue"
    assert first["annotations"] == []
    assert [p["id"] for p in first["predictions"]] == [prediction.json()["id"]]
    assert first["drafts"] == []
    assert first["inner_id"] == 1
    assert first["unique_lock_id"]

    with stack.task_runtime.database.session() as session:
        lock = session.get(TaskLock, (ids[0], cast.annotator.user_id))
        assert lock is not None
        assert lock.unique_id == first["unique_lock_id"]
        remaining = (lock.expires_at - utcnow()).total_seconds()
        assert 86400 - 60 < remaining <= 86400

    # Asking again hands back the held task with the same lock.
    draft = client.post(
        f"/api/tasks/{ids[0]}/drafts", json={"result": []}, headers=cast.annotator.headers
    ).json()
    again = next_of(client, cast.annotator, project_id)
    assert again["id"] == ids[0]
    assert again["queue"] == "Task lock"
    assert again["unique_lock_id"] == first["unique_lock_id"]
    assert [d["id"] for d in again["drafts"]] == [draft["id"]]

    # Another annotator gets the next task (overlap 1).
    other = next_of(client, cast.annotator2, project_id)
    assert other["id"] == ids[1]
    assert locks_of(stack, project_id) == {
        cast.annotator.user_id: [ids[0]],
        cast.annotator2.user_id: [ids[1]],
    }

    # Submitting releases the lock; the annotator moves on, never back to a done task.
    submit(client, cast.annotator, ids[0], draft_id=draft["id"])
    assert locks_of(stack, project_id) == {cast.annotator2.user_id: [ids[1]]}
    assert next_of(client, cast.annotator, project_id)["id"] == ids[2]
    submit(client, cast.annotator, ids[2])
    assert nothing_left(client, cast.annotator, project_id)
    submit(client, cast.annotator2, ids[1])
    assert nothing_left(client, cast.annotator2, project_id)
    assert locks_of(stack, project_id) == {}


def test_skipped_tasks_do_not_come_back_but_go_to_others(
    client: TestClient, cast: Any, stack: Any, make_project: Any
) -> None:
    project_id = make_project()
    ids = make_tasks(client, cast, project_id, 2)
    assert next_of(client, cast.annotator, project_id)["id"] == ids[0]
    submit(client, cast.annotator, ids[0], was_cancelled=True)
    assert locks_of(stack, project_id) == {}
    assert next_of(client, cast.annotator, project_id)["id"] == ids[1]
    submit(client, cast.annotator, ids[1])
    assert nothing_left(client, cast.annotator, project_id)
    # Default skip queue (REQUEUE_FOR_OTHERS): someone else still gets the skipped task.
    assert next_of(client, cast.annotator2, project_id)["id"] == ids[0]


def test_requeue_for_me_brings_skips_back_last(
    client: TestClient, cast: Any, make_project: Any
) -> None:
    project_id = make_project(skip_queue="REQUEUE_FOR_ME")
    ids = make_tasks(client, cast, project_id, 2)
    assert next_of(client, cast.annotator, project_id)["id"] == ids[0]
    submit(client, cast.annotator, ids[0], was_cancelled=True)
    assert next_of(client, cast.annotator, project_id)["id"] == ids[1]
    submit(client, cast.annotator, ids[1])
    back = next_of(client, cast.annotator, project_id)
    assert back["id"] == ids[0]
    assert back["queue"] == "Skipped queue"
    submit(client, cast.annotator, ids[0])
    assert nothing_left(client, cast.annotator, project_id)


def test_ignore_skipped_counts_a_skip_as_done(
    client: TestClient, cast: Any, make_project: Any
) -> None:
    project_id = make_project(skip_queue="IGNORE_SKIPPED")
    ids = make_tasks(client, cast, project_id, 1)
    assert next_of(client, cast.annotator, project_id)["id"] == ids[0]
    submit(client, cast.annotator, ids[0], was_cancelled=True)
    assert nothing_left(client, cast.annotator, project_id)
    assert nothing_left(client, cast.annotator2, project_id)


def test_postponed_task_comes_back_last(
    client: TestClient, cast: Any, stack: Any, make_project: Any
) -> None:
    project_id = make_project()
    ids = make_tasks(client, cast, project_id, 3)
    assert next_of(client, cast.annotator, project_id)["id"] == ids[0]
    postponed = client.post(
        f"/api/tasks/{ids[0]}/drafts",
        json={"result": [region()], "was_postponed": True},
        headers=cast.annotator.headers,
    )
    assert postponed.status_code == 201
    assert locks_of(stack, project_id) == {}
    assert next_of(client, cast.annotator, project_id)["id"] == ids[1]
    submit(client, cast.annotator, ids[1])
    assert next_of(client, cast.annotator, project_id)["id"] == ids[2]
    submit(client, cast.annotator, ids[2])
    back = next_of(client, cast.annotator, project_id)
    assert back["id"] == ids[0]
    assert back["queue"] == "Postponed draft queue"
    assert [d["id"] for d in back["drafts"]] == [postponed.json()["id"]]
    submit(client, cast.annotator, ids[0], draft_id=postponed.json()["id"])
    assert nothing_left(client, cast.annotator, project_id)


def test_labeled_tasks_are_not_offered(client: TestClient, cast: Any, make_project: Any) -> None:
    project_id = make_project()
    ids = make_tasks(client, cast, project_id, 2)
    submit(client, cast.owner, ids[0])  # labeled outside the stream
    assert next_of(client, cast.annotator, project_id)["id"] == ids[1]


def test_overlap_two_shares_a_task_between_two_annotators_only(
    client: TestClient, cast: Any, stack: Any, make_project: Any
) -> None:
    project_id = make_project(maximum_annotations=2)
    ids = make_tasks(client, cast, project_id, 2)
    assert next_of(client, cast.annotator, project_id)["id"] == ids[0]
    assert next_of(client, cast.annotator2, project_id)["id"] == ids[0]
    assert next_of(client, cast.manager, project_id)["id"] == ids[1]
    assert locks_of(stack, project_id) == {
        cast.annotator.user_id: [ids[0]],
        cast.annotator2.user_id: [ids[0]],
        cast.manager.user_id: [ids[1]],
    }
    # One finished annotation plus one lock still fill the two slots.
    submit(client, cast.annotator, ids[0])
    assert next_of(client, cast.owner, project_id)["id"] == ids[1]


def test_breadth_first_prefers_started_tasks(
    client: TestClient, cast: Any, make_project: Any
) -> None:
    project_id = make_project(maximum_annotations=2)
    ids = make_tasks(client, cast, project_id, 3)
    submit(client, cast.owner, ids[2])
    got = next_of(client, cast.annotator, project_id)
    assert got["id"] == ids[2]
    assert got["queue"] == "Breadth first queue"
    submit(client, cast.annotator, ids[2])
    got = next_of(client, cast.annotator, project_id)
    assert got["id"] == ids[0]
    assert got["queue"] == "Sequence queue"


def test_expired_lock_frees_the_task(
    client: TestClient, cast: Any, stack: Any, make_project: Any
) -> None:
    project_id = make_project()
    ids = make_tasks(client, cast, project_id, 2)
    assert next_of(client, cast.annotator, project_id)["id"] == ids[0]
    assert next_of(client, cast.annotator2, project_id)["id"] == ids[1]
    submit(client, cast.annotator2, ids[1])
    assert nothing_left(client, cast.annotator2, project_id)
    with stack.task_runtime.database.session() as session:
        session.execute(
            update(TaskLock)
            .where(TaskLock.task_id == ids[0])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    got = next_of(client, cast.annotator2, project_id)
    assert got["id"] == ids[0]
    assert got["queue"] == "Sequence queue"
    with stack.task_runtime.database.session() as session:
        rows = session.scalars(select(TaskLock).where(TaskLock.task_id == ids[0])).all()
        assert [(row.user_id, row.expires_at > utcnow()) for row in rows] == [
            (cast.annotator2.user_id, True)
        ]
    # The first annotator's lock is gone: they move on (nothing left for them but ids[0]).
    assert nothing_left(client, cast.annotator, project_id)


def test_short_ttl_from_settings(
    client: TestClient, cast: Any, stack: Any, make_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.task_runtime.http_app.state.settings, "task_lock_ttl_seconds", 30)
    project_id = make_project()
    ids = make_tasks(client, cast, project_id, 1)
    next_of(client, cast.annotator, project_id)
    with stack.task_runtime.database.session() as session:
        lock = session.get(TaskLock, (ids[0], cast.annotator.user_id))
        assert lock is not None
        assert 0 < (lock.expires_at - utcnow()).total_seconds() <= 30


def test_uncertainty_sampling_takes_lowest_score_first(
    client: TestClient, cast: Any, make_project: Any
) -> None:
    project_id = make_project(sampling="Uncertainty sampling")
    ids = make_tasks(client, cast, project_id, 4)
    for task_id, score in zip(ids[:3], (0.9, 0.1, 0.5), strict=True):
        answer = client.post(
            "/api/predictions",
            json={"task": task_id, "result": [region()], "score": score},
            headers=cast.owner.headers,
        )
        assert answer.status_code == 201
    order = []
    for _ in range(4):
        got = next_of(client, cast.annotator, project_id)
        assert got["queue"] == "Active learning or random queue"
        order.append(got["id"])
        submit(client, cast.annotator, got["id"])
    assert order == [ids[1], ids[2], ids[0], ids[3]]
    assert nothing_left(client, cast.annotator, project_id)


def test_uniform_sampling_covers_every_task_once(
    client: TestClient, cast: Any, make_project: Any
) -> None:
    project_id = make_project(sampling="Uniform sampling")
    ids = make_tasks(client, cast, project_id, 6)
    seen = []
    for _ in range(6):
        got = next_of(client, cast.annotator, project_id)
        assert got["queue"] == "Uniform random queue"
        seen.append(got["id"])
        submit(client, cast.annotator, got["id"])
    assert sorted(seen) == sorted(ids)
    assert nothing_left(client, cast.annotator, project_id)


def test_data_manager_params_restrict_the_queue(
    client: TestClient, cast: Any, make_project: Any
) -> None:
    project_id = make_project()
    ids = make_tasks(client, cast, project_id, 4)
    selected = next_of(
        client,
        cast.annotator,
        project_id,
        json={"selectedItems": {"all": False, "included": [ids[2]]}},
    )
    assert selected["id"] == ids[2]
    submit(client, cast.annotator, ids[2])
    filtered = next_of(
        client,
        cast.annotator,
        project_id,
        json={
            "filters": {
                "conjunction": "and",
                "items": [
                    {
                        "filter": "filter:tasks:data.text",
                        "operator": "equal",
                        "type": "String",
                        "value": "text 3",
                    }
                ],
            }
        },
    )
    assert filtered["id"] == ids[3]
    submit(client, cast.annotator, ids[3])
    ordered = next_of(client, cast.annotator, project_id, json={"ordering": ["-tasks:id"]})
    assert ordered["id"] == ids[1]
    submit(client, cast.annotator, ids[1])
    # Only ids[0] is left; a `query` that excludes it leaves nothing.
    excluded = client.get(
        f"/api/projects/{project_id}/next",
        params={"query": json.dumps({"selectedItems": {"all": True, "excluded": [ids[0]]}})},
        headers=cast.annotator.headers,
    )
    assert excluded.status_code == 404
    assert next_of(client, cast.annotator, project_id)["id"] == ids[0]


def test_bad_data_manager_params_are_400(
    client: TestClient, cast: Any, stack: Any, make_project: Any
) -> None:
    project_id = make_project()
    make_tasks(client, cast, project_id, 1)
    url = f"/api/projects/{project_id}/next"
    for body, field in (
        ({"ordering": ["tasks:nope"]}, "ordering[0]"),
        ({"filters": "all"}, "filters"),
        ({"selectedItems": {"all": "sometimes"}}, "selectedItems"),
        ([1, 2], "non_field_errors"),
    ):
        answer = client.post(url, json=body, headers=cast.annotator.headers)
        assert answer.status_code == 400, (body, answer.text)
        assert field in answer.json()["validation_errors"], answer.json()
    bad_query = client.get(url, params={"query": "{"}, headers=cast.annotator.headers)
    assert bad_query.status_code == 400
    assert "query" in bad_query.json()["validation_errors"]
    assert locks_of(stack, project_id) == {}


def test_permissions(client: TestClient, cast: Any, make_project: Any) -> None:
    project_id = make_project()
    make_tasks(client, cast, project_id, 4)
    for actor in (cast.owner, cast.manager, cast.annotator):
        assert next_of(client, actor, project_id)["queue"] == "Sequence queue"
    outsider = client.get(f"/api/projects/{project_id}/next", headers=cast.outsider.headers)
    assert outsider.status_code == 404
    assert (
        client.post(
            f"/api/projects/{project_id}/next", json={}, headers=cast.outsider.headers
        ).status_code
        == 404
    )
    assert client.get(f"/api/projects/{project_id}/next").status_code == 401
    assert client.post(f"/api/projects/{project_id}/next", json={}).status_code == 401
    missing = client.get("/api/projects/999999999/next", headers=cast.owner.headers)
    assert missing.status_code == 404


def test_empty_project_is_404(client: TestClient, cast: Any, make_project: Any) -> None:
    project_id = make_project()
    answer = client.get(f"/api/projects/{project_id}/next", headers=cast.annotator.headers)
    assert answer.status_code == 404
    assert "detail" in answer.json()


def _concurrently(count: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_concurrent_annotators_get_different_tasks(
    client: TestClient, cast: Any, stack: Any, make_project: Any
) -> None:
    project_id = make_project()
    ids = make_tasks(client, cast, project_id, 4)
    actors = [cast.owner, cast.manager, cast.annotator, cast.annotator2]

    def ask(index: int) -> int:
        task_id: int = next_of(client, actors[index], project_id)["id"]
        return task_id

    got = _concurrently(4, ask)
    assert sorted(got) == sorted(ids)
    held = locks_of(stack, project_id)
    assert sorted(task for tasks in held.values() for task in tasks) == sorted(ids)


def test_concurrent_labeling_hands_out_each_task_once(
    client: TestClient, cast: Any, stack: Any, make_project: Any
) -> None:
    project_id = make_project()
    ids = make_tasks(client, cast, project_id, 12)
    actors = [cast.owner, cast.manager, cast.annotator, cast.annotator2]

    def label(index: int) -> list[int]:
        actor = actors[index]
        done: list[int] = []
        while True:
            answer = client.get(f"/api/projects/{project_id}/next", headers=actor.headers)
            if answer.status_code == 404:
                return done
            assert answer.status_code == 200, answer.text
            task_id = answer.json()["id"]
            submit(client, actor, task_id)
            done.append(task_id)

    got = _concurrently(4, label)
    handed = [task for tasks in got for task in tasks]
    assert Counter(handed) == Counter(ids)  # every task exactly once
    with stack.task_runtime.database.session() as session:
        annotated = session.scalars(
            select(Annotation.task_id).where(Annotation.project_id == project_id)
        ).all()
    assert Counter(annotated) == Counter(ids)
    assert locks_of(stack, project_id) == {}


def test_concurrent_overlap_two_never_exceeds_two(
    client: TestClient, cast: Any, stack: Any, make_project: Any
) -> None:
    project_id = make_project(maximum_annotations=2)
    ids = make_tasks(client, cast, project_id, 2)
    actors = [cast.owner, cast.manager, cast.annotator, cast.annotator2]

    def ask(index: int) -> int:
        task_id: int = next_of(client, actors[index], project_id)["id"]
        return task_id

    got = _concurrently(4, ask)
    assert Counter(got) == Counter({ids[0]: 2, ids[1]: 2})


def test_submitting_for_someone_else_releases_the_callers_lock(
    client: TestClient, cast: Any, stack: Any, make_project: Any
) -> None:
    project_id = make_project()
    ids = make_tasks(client, cast, project_id, 2)
    assert next_of(client, cast.manager, project_id)["id"] == ids[0]
    assert locks_of(stack, project_id) == {cast.manager.user_id: [ids[0]]}
    submit(client, cast.manager, ids[0], completed_by=cast.annotator.user_id)
    assert locks_of(stack, project_id) == {}
    # The task is labeled (by the annotator); nobody gets it again.
    assert next_of(client, cast.manager, project_id)["id"] == ids[1]
    assert nothing_left(client, cast.annotator, project_id)  # ids[1] is the manager's now

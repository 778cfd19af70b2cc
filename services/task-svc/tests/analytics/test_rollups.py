"""The rollups after a scripted session equal a direct count over the annotations, events
redelivered count once, and review and agreement events (published through the real
events path) land in the right person's figures."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from labelops_common import events
from prometheus_client import REGISTRY
from sqlalchemy import text
from task_svc.analytics import backfill, metrics

from .conftest import RESULT, wait_until

COUNTERS = (
    "annotations",
    "skipped",
    "lead_time_sum",
    "lead_time_count",
    "tasks_completed",
    "completion_seconds_sum",
)


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def direct_count(stack, project_id: int) -> dict[tuple[int, datetime], dict[str, float]]:
    """Per (author, hour): counted straight from the annotations and tasks, in Python."""
    with stack.task_runtime.database.session() as session:
        rows = session.execute(
            text(
                "SELECT a.id, a.task_id, a.completed_by_id, a.created_at, a.was_cancelled,"
                " a.lead_time, t.created_at AS task_created_at"
                " FROM annotations a JOIN tasks t ON t.id = a.task_id WHERE a.project_id = :p"
            ),
            {"p": project_id},
        ).all()
    figures: dict[tuple[int, datetime], dict[str, float]] = defaultdict(
        lambda: dict.fromkeys(COUNTERS, 0.0)
    )
    first: dict[int, Any] = {}
    for row in rows:
        key = (row.completed_by_id or 0, _hour(row.created_at))
        figures[key]["skipped" if row.was_cancelled else "annotations"] += 1
        if row.lead_time is not None:
            figures[key]["lead_time_sum"] += row.lead_time
            figures[key]["lead_time_count"] += 1
        if not row.was_cancelled and (
            row.task_id not in first
            or (row.created_at, row.id) < (first[row.task_id].created_at, first[row.task_id].id)
        ):
            first[row.task_id] = row
    for row in first.values():
        key = (row.completed_by_id or 0, _hour(row.created_at))
        figures[key]["tasks_completed"] += 1
        figures[key]["completion_seconds_sum"] += (
            row.created_at - row.task_created_at
        ).total_seconds()
    return {key: _rounded(values) for key, values in figures.items()}


def rolled_up(stack, project_id: int) -> dict[tuple[int, datetime], dict[str, float]]:
    with stack.task_runtime.database.session() as session:
        rows = session.execute(
            text(
                f"SELECT user_id, hour, {', '.join(COUNTERS)} FROM analytics_user_hours"  # noqa: S608
                " WHERE project_id = :p"
            ),
            {"p": project_id},
        ).all()
    answer = {}
    for row in rows:
        values = _rounded({name: getattr(row, name) for name in COUNTERS})
        if any(values.values()):
            answer[(row.user_id, _hour(row.hour))] = values
    return answer


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {name: round(float(value), 6) for name, value in values.items()}


def test_rollups_equal_a_direct_count_after_a_scripted_session(
    stack, client, cast, make_project, celery_app, writer
) -> None:
    project_id = make_project()
    counted_before = metrics.ANNOTATIONS_CREATED._value.get()
    t1, t2, t3 = (writer.task(cast.owner, project_id) for _ in range(3))
    mine_t1 = writer.annotate(cast.annotator, t1, lead_time=10)
    mine_t2 = writer.annotate(cast.annotator, t2, lead_time=20)
    writer.annotate(cast.annotator2, t1, lead_time=5)
    writer.annotate(cast.annotator2, t3, skip=True, lead_time=1)
    answer = client.patch(
        f"/api/annotations/{mine_t1}", json={"lead_time": 12.5}, headers=cast.annotator.headers
    )
    assert answer.status_code == 200, answer.text
    answer = client.delete(f"/api/annotations/{mine_t2}", headers=cast.owner.headers)
    assert answer.status_code == 204, answer.text
    writer.annotate(cast.annotator2, t2, lead_time=7)
    answer = client.delete(f"/api/tasks/{t3}", headers=cast.owner.headers)
    assert answer.status_code == 204, answer.text

    expected = direct_count(stack, project_id)
    assert wait_until(lambda: rolled_up(stack, project_id) == expected), (
        rolled_up(stack, project_id),
        expected,
    )
    # Prometheus counts each new annotation once (five were made), with no labels.
    assert wait_until(lambda: metrics.ANNOTATIONS_CREATED._value.get() - counted_before == 5)
    label_names = {
        name
        for family in REGISTRY.collect()
        if family.name.startswith("labelops_analytics_")
        for sample in family.samples
        for name in sample.labels
    }
    assert label_names == {"outcome", "le"}
    # The same figures through the API, by hand: the deleted annotation and the deleted
    # task's skip are gone, the update's lead time replaced the first one.
    people = client.get(
        f"/api/projects/{project_id}/analytics/people/", headers=cast.manager.headers
    ).json()["people"]
    by_user = {person["user"]: person for person in people}
    assert set(by_user) == {cast.annotator.user_id, cast.annotator2.user_id}
    mine, theirs = by_user[cast.annotator.user_id], by_user[cast.annotator2.user_id]
    assert (mine["annotations"], mine["skipped"], mine["tasks_completed"]) == (1, 0, 1)
    assert mine["lead_time_mean"] == 12.5
    assert (theirs["annotations"], theirs["skipped"], theirs["tasks_completed"]) == (2, 0, 1)
    assert theirs["lead_time_mean"] == 6.0
    series = client.get(
        f"/api/projects/{project_id}/analytics/", headers=cast.manager.headers
    ).json()
    assert series["totals"]["annotations"] == 3
    assert series["totals"]["tasks_completed"] == 2
    assert sum(point["annotations"] for point in series["series"]) == 3

    # Rebuilt from scratch, set-based, the backfill finds the same rollups.
    with stack.task_runtime.database.session() as session:
        assert backfill.backfill_project(session, project_id=project_id) == 3
        session.commit()
    assert rolled_up(stack, project_id) == expected


def _deliver(
    app, event_id: str, name: str, project_id: int, payload: dict[str, Any], at: datetime
) -> None:
    """Hand one event to the broker as the outbox does (the same id again is a redelivery)."""
    app.tasks[events.DELIVER_TASK].apply_async(
        args=(event_id, name, project_id, payload, at.isoformat()), queue=events.EVENTS_QUEUE
    )


def _duplicates(handler: str, name: str) -> float:
    return float(
        events.HANDLED.labels(name, f"task_svc.analytics.jobs.{handler}", "duplicate")._value.get()
    )


def _person(client, cast, project_id: int, user_id: int) -> dict[str, Any]:
    people = client.get(
        f"/api/projects/{project_id}/analytics/people/", headers=cast.owner.headers
    ).json()["people"]
    return next((person for person in people if person["user"] == user_id), {})


def test_reviews_count_once_per_event_and_follow_their_latest_outcome(
    stack, client, cast, make_project, celery_app, writer
) -> None:
    project_id = make_project()
    task_id = writer.task(cast.owner, project_id)
    annotation_id = writer.annotate(cast.annotator, task_id, lead_time=3)
    payload = {
        "review": 9_000_000 + project_id,
        "annotation": annotation_id,
        "task": task_id,
        "reviewer": cast.manager.user_id,
        "annotator": cast.annotator.user_id,
        "accepted": False,
    }
    # Published after a commit, through the outbox, as the review domain publishes it.
    with stack.task_runtime.database.session() as session:
        event_id = events.publish_after_commit(
            session, events.REVIEW_CREATED, project_id=project_id, payload=payload
        )
        session.commit()
    assert wait_until(
        lambda: (
            _person(client, cast, project_id, cast.annotator.user_id).get("rejected_received") == 1
        )
    )

    # Redelivered: applied once.
    before = _duplicates("count_reviews", events.REVIEW_CREATED)
    _deliver(celery_app, event_id, events.REVIEW_CREATED, project_id, payload, datetime.now(UTC))
    assert wait_until(lambda: _duplicates("count_reviews", events.REVIEW_CREATED) == before + 1)
    reviewer = _person(client, cast, project_id, cast.manager.user_id)
    assert (reviewer["reviews_accepted"], reviewer["reviews_rejected"]) == (0, 1)
    annotator = _person(client, cast, project_id, cast.annotator.user_id)
    assert (annotator["accepted_received"], annotator["rejected_received"]) == (0, 1)

    # Accepted on a second look: the rejection is taken back. A stale update arriving
    # late (older than what was applied) changes nothing.
    now = datetime.now(UTC)
    _deliver(
        celery_app,
        events.new_event_id(),
        events.REVIEW_UPDATED,
        project_id,
        {**payload, "accepted": True},
        now + timedelta(seconds=1),
    )
    assert wait_until(
        lambda: (
            _person(client, cast, project_id, cast.annotator.user_id).get("accepted_received") == 1
        )
    )
    before = float(
        events.HANDLED.labels(
            events.REVIEW_UPDATED, "task_svc.analytics.jobs.count_reviews", "succeeded"
        )._value.get()
    )
    _deliver(
        celery_app,
        events.new_event_id(),
        events.REVIEW_UPDATED,
        project_id,
        payload,
        now - timedelta(minutes=1),
    )
    assert wait_until(
        lambda: (
            events.HANDLED.labels(
                events.REVIEW_UPDATED, "task_svc.analytics.jobs.count_reviews", "succeeded"
            )._value.get()
            == before + 1
        )
    )
    annotator = _person(client, cast, project_id, cast.annotator.user_id)
    assert (annotator["accepted_received"], annotator["rejected_received"]) == (1, 0)
    reviewer = _person(client, cast, project_id, cast.manager.user_id)
    assert (reviewer["reviews_accepted"], reviewer["reviews_rejected"]) == (1, 0)

    _deliver(
        celery_app,
        events.new_event_id(),
        events.REVIEWS_DELETED,
        project_id,
        payload,
        now + timedelta(seconds=2),
    )
    assert wait_until(lambda: _person(client, cast, project_id, cast.manager.user_id) == {})
    assert _person(client, cast, project_id, cast.annotator.user_id)["accepted_received"] == 0


def test_agreement_over_time_counts_each_task_once_and_each_annotator(
    stack, client, cast, make_project, celery_app, writer
) -> None:
    project_id = make_project()
    first, second = writer.task(cast.owner, project_id), writer.task(cast.owner, project_id)
    for task_id in (first, second):
        writer.annotate(cast.annotator, task_id)
    writer.annotate(cast.annotator2, first)
    now = datetime.now(UTC)
    for task_id, agreement, at in (
        (first, 0.5, now),
        (first, 1.0, now + timedelta(seconds=1)),
        (second, 0.25, now),
    ):
        _deliver(
            celery_app,
            events.new_event_id(),
            events.TASK_AGREEMENT_UPDATED,
            project_id,
            {"task": task_id, "agreement": agreement},
            at,
        )

    def project_agreement() -> tuple[Any, Any]:
        totals = client.get(
            f"/api/projects/{project_id}/analytics/", headers=cast.owner.headers
        ).json()["totals"]
        return totals["agreement_count"], totals["agreement_mean"]

    # Project: mean over tasks (1.0 and 0.25); each annotator: over the tasks they did.
    assert wait_until(lambda: project_agreement() == (2, 0.625)), project_agreement()
    mine = _person(client, cast, project_id, cast.annotator.user_id)
    assert (mine["agreement_count"], mine["agreement_mean"]) == (2, 0.625)
    theirs = _person(client, cast, project_id, cast.annotator2.user_id)
    assert (theirs["agreement_count"], theirs["agreement_mean"]) == (1, 1.0)

    # No agreement any more (a task left with one annotation): it leaves the means.
    _deliver(
        celery_app,
        events.new_event_id(),
        events.TASK_AGREEMENT_UPDATED,
        project_id,
        {"task": second, "agreement": None},
        now + timedelta(seconds=2),
    )
    assert wait_until(lambda: project_agreement() == (1, 1.0)), project_agreement()
    mine = _person(client, cast, project_id, cast.annotator.user_id)
    assert (mine["agreement_count"], mine["agreement_mean"]) == (1, 1.0)
    assert not math.isnan(mine["agreement_mean"])


def test_annotations_imported_with_their_tasks_are_counted(
    stack, client, cast, make_project, celery_app
) -> None:
    """An import publishes TASKS_CREATED only; the annotations it carried count anyway."""
    project_id = make_project()
    items = [
        {
            "data": {"text": f"t{n}"},
            "annotations": [{"result": RESULT, "lead_time": 4, "completed_by": cast.owner.user_id}],
        }
        for n in range(3)
    ]
    answer = client.post(
        f"/api/projects/{project_id}/import", json=items, headers=cast.owner.headers
    )
    assert answer.status_code == 201, answer.text
    expected = direct_count(stack, project_id)
    assert sum(values["annotations"] for values in expected.values()) == 3
    assert wait_until(lambda: rolled_up(stack, project_id) == expected), (
        rolled_up(stack, project_id),
        expected,
    )
    assert sum(values["tasks_completed"] for values in expected.values()) == 3


def test_a_batch_naming_one_annotation_twice_counts_it_once(
    stack, client, cast, make_project, writer, monkeypatch
) -> None:
    """A worker applies a batched message's events in one transaction: the second event of
    the same annotation must see the fact the first one wrote, not the one before it."""
    # Only the batch below applies events: the API's own would race it in the worker.
    monkeypatch.setattr(events, "publish_after_commit", lambda *args, **kwargs: "")
    project_id = make_project()
    task_id = writer.task(cast.owner, project_id)
    annotation_id = writer.annotate(cast.annotator, task_id, lead_time=10)
    with stack.task_runtime.database.session() as session:
        backfill.backfill_project(session, project_id=project_id)
        session.commit()
    answer = client.patch(
        f"/api/annotations/{annotation_id}", json={"lead_time": 4}, headers=cast.annotator.headers
    )
    assert answer.status_code == 200, answer.text
    now = datetime.now(UTC).isoformat()
    batch = [
        events.Event(
            id=events.new_event_id(),
            name=events.ANNOTATION_UPDATED,
            project_id=project_id,
            payload={"annotation_id": annotation_id, "task_id": task_id, "project_id": project_id},
            occurred_at=now,
        )
        for _ in range(3)
    ]
    assert events.run_handlers_for_batch(batch) == {}
    assert rolled_up(stack, project_id) == direct_count(stack, project_id)
    [figures] = rolled_up(stack, project_id).values()
    assert (figures["annotations"], figures["lead_time_sum"]) == (1, 4)

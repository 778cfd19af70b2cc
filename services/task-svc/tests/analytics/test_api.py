"""The analytics API: who sees whose figures, the time range, and bad input.

Rollups here are built by the backfill from annotations whose times were set by hand, so
the figures per day are known exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from task_svc.analytics import backfill

from .conftest import Writer

DAY1 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
DAY2 = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)


@pytest.fixture()
def project_id(stack, client, cast, make_project) -> int:
    """Two annotators' work on two days: day 1 annotator (lead 10) and annotator2 (lead
    30, skip); day 2 annotator (lead 20). Tasks were created an hour before day 1."""
    writer = Writer(client)
    project = make_project()
    t1, t2 = writer.task(cast.owner, project), writer.task(cast.owner, project)
    placed = [
        (writer.annotate(cast.annotator, t1, lead_time=10), DAY1),
        (writer.annotate(cast.annotator2, t1, lead_time=30), DAY1 + timedelta(minutes=10)),
        (writer.annotate(cast.annotator2, t2, skip=True), DAY1 + timedelta(minutes=20)),
        (writer.annotate(cast.annotator, t2, lead_time=20), DAY2),
    ]
    with stack.task_runtime.database.session() as session:
        session.execute(
            text("UPDATE tasks SET created_at = :at WHERE project_id = :p"),
            {"at": DAY1 - timedelta(hours=1), "p": project},
        )
        for annotation_id, at in placed:
            session.execute(
                text("UPDATE annotations SET created_at = :at WHERE id = :id"),
                {"at": at, "id": annotation_id},
            )
        backfill.backfill_project(session, project_id=project)
        session.commit()
    return project


def _get(client, actor, path: str, **params):
    return client.get(path, params=params, headers=actor.headers if actor else {})


def test_a_manager_sees_the_project_per_day_within_the_range(client, cast, project_id) -> None:
    answer = _get(
        client,
        cast.manager,
        f"/api/projects/{project_id}/analytics/",
        **{"from": "2026-11-01", "to": "2026-11-03", "interval": "day"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["from"], body["to"], body["user"]) == (
        "2026-11-01T00:00:00Z",
        "2026-11-04T00:00:00Z",
        None,
    )
    by_day = {point["period"][:10]: point for point in body["series"]}
    assert list(by_day) == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert by_day["2026-11-01"]["annotations"] == 0
    day1, day2 = by_day["2026-11-02"], by_day["2026-11-03"]
    assert (day1["annotations"], day1["skipped"], day1["tasks_completed"]) == (2, 1, 1)
    assert day1["lead_time_mean"] == 20.0  # (10 + 30) / 2; the skip reported none
    assert day1["completion_time_mean"] == 3600.0  # t1 created at 08:30, first done at 09:30
    assert day2["completion_time_mean"] == (29 * 60 + 35) * 60  # t2: its skip does not count
    assert (day2["annotations"], day2["tasks_completed"], day2["lead_time_mean"]) == (1, 1, 20.0)
    assert body["totals"]["annotations"] == 3

    # Narrower: only the second day.
    only_day2 = _get(
        client,
        cast.manager,
        f"/api/projects/{project_id}/analytics/",
        **{"from": "2026-11-03", "to": "2026-11-03"},
    ).json()
    assert only_day2["totals"]["annotations"] == 1
    assert len(only_day2["series"]) == 1

    # Per hour over day 1: the work sits in the 09:00 hour.
    hourly = _get(
        client,
        cast.manager,
        f"/api/projects/{project_id}/analytics/",
        **{"from": "2026-11-02", "to": "2026-11-02", "interval": "hour"},
    ).json()
    assert len(hourly["series"]) == 24
    busy = [point for point in hourly["series"] if point["annotations"] or point["skipped"]]
    assert [point["period"] for point in busy] == ["2026-11-02T09:00:00Z"]


def test_an_annotator_sees_only_their_own_figures(client, cast, project_id) -> None:
    span = {"from": "2026-11-01", "to": "2026-11-04"}
    mine = _get(client, cast.annotator, f"/api/projects/{project_id}/analytics/", **span).json()
    assert mine["user"] == cast.annotator.user_id
    assert mine["totals"]["annotations"] == 2 and mine["totals"]["skipped"] == 0
    people = _get(client, cast.annotator, f"/api/projects/{project_id}/analytics/people/", **span)
    assert people.status_code == 200, people.text
    assert [person["user"] for person in people.json()["people"]] == [cast.annotator.user_id]

    other = _get(
        client,
        cast.annotator,
        f"/api/projects/{project_id}/analytics/",
        user=cast.annotator2.user_id,
        **span,
    )
    assert other.status_code == 403, other.text

    # A manager may look at one person, and sees everyone in the table.
    theirs = _get(
        client,
        cast.manager,
        f"/api/projects/{project_id}/analytics/",
        user=cast.annotator2.user_id,
        **span,
    ).json()
    assert (theirs["totals"]["annotations"], theirs["totals"]["skipped"]) == (1, 1)
    everyone = _get(
        client, cast.owner, f"/api/projects/{project_id}/analytics/people/", **span
    ).json()
    assert [person["user"] for person in everyone["people"]] == sorted(
        [cast.annotator.user_id, cast.annotator2.user_id]
    )
    assert all(person["email"] for person in everyone["people"])


@pytest.mark.parametrize("path", ["/analytics/", "/analytics/people/"])
def test_outsiders_and_anonymous_callers_are_refused(client, cast, project_id, path) -> None:
    assert _get(client, cast.outsider, f"/api/projects/{project_id}{path}").status_code == 404
    assert _get(client, None, f"/api/projects/{project_id}{path}").status_code == 401
    assert _get(client, cast.owner, f"/api/projects/999999999{path}").status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"interval": "week"}, "interval"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-11-01"}, "to"),
        ({"user": "someone"}, "user"),
        ({"to": "9999-12-31"}, "from"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(client, cast, project_id, params, field) -> None:
    answer = _get(client, cast.manager, f"/api/projects/{project_id}/analytics/", **params)
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["validation_errors"], answer.json()

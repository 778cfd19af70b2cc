"""Reading analytics: every figure is summed from the hourly rollups (`models.py`), so an
answer costs a few rows per person and hour of the range, not a scan of annotations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from labelops_common.http.errors import ValidationFailed
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from task_svc.analytics.models import NO_USER, ProjectHour, UserHour
from task_svc.analytics.schemas import Figures, Interval, SeriesPoint

#: A series has at most this many periods (two years of days; 31 days of hours).
MAX_PERIODS = 744
#: The range when none is given: the last 30 days, or 48 hours.
DEFAULT_SPAN = {"day": timedelta(days=30), "hour": timedelta(hours=48)}
STEP = {"day": timedelta(days=1), "hour": timedelta(hours=1)}


@dataclass(frozen=True)
class Range:
    start: datetime
    end: datetime
    interval: Interval


def _parse_moment(value: str, *, field: str, end: bool) -> datetime:
    """An ISO date or date-time (UTC unless it names a zone). A date as `to` means the end
    of that day, so `from=2026-12-01&to=2026-12-01` is that whole day."""
    try:
        if len(value) == 10:
            day = datetime.fromisoformat(value).replace(tzinfo=UTC)
            return day + timedelta(days=1) if end else day
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            {field: ["Enter a valid date or date/time (ISO 8601, YYYY-MM-DD[THH:MM:SS])."]}
        ) from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _floor(moment: datetime, interval: Interval) -> datetime:
    moment = moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if interval == "day" else moment


def parse_range(
    *, start: str | None, end: str | None, interval: str | None, now: datetime | None = None
) -> Range:
    try:
        return _parse_range(start=start, end=end, interval=interval, now=now)
    except OverflowError:
        raise ValidationFailed(
            {"from": ["The range reaches past the dates this server can count (years 1 to 9999)."]}
        ) from None


def _parse_range(
    *, start: str | None, end: str | None, interval: str | None, now: datetime | None
) -> Range:
    """The query's range, aligned to whole periods; 400 naming the field when it is not
    one (unknown interval, `from` after `to`, more than `MAX_PERIODS` periods)."""
    interval = interval or "day"
    if interval not in STEP:
        raise ValidationFailed({"interval": [f"Unknown interval '{interval}': one of day, hour."]})
    period: Interval = "day" if interval == "day" else "hour"
    step = STEP[period]
    # Without `to`, the range ends with the current period.
    end_at = _parse_moment(end, field="to", end=True) if end else (now or datetime.now(UTC))
    aligned_end = _floor(end_at, period)
    end_at = aligned_end if end and aligned_end == end_at else aligned_end + step
    start_at = (
        _parse_moment(start, field="from", end=False) if start else end_at - DEFAULT_SPAN[period]
    )
    start_at = _floor(start_at, period)
    if start_at >= end_at:
        raise ValidationFailed({"from": ["Must be before 'to'."]})
    if (end_at - start_at) / step > MAX_PERIODS:
        raise ValidationFailed(
            {"to": [f"At most {MAX_PERIODS} {period}s in one series: narrow the range."]}
        )
    return Range(start=start_at, end=end_at, interval=period)


def _sums(table: Any, names: tuple[str, ...]) -> list[Any]:
    return [func.coalesce(func.sum(getattr(table, name)), 0).label(name) for name in names]


_USER_SUMS = (
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


def _mean(total: float, count: int) -> float | None:
    return float(total) / count if count else None


def _figures(values: dict[str, Any]) -> dict[str, Any]:
    def get(name: str) -> Any:
        return values.get(name) or 0

    return {
        "annotations": int(get("annotations")),
        "skipped": int(get("skipped")),
        "tasks_completed": int(get("tasks_completed")),
        "lead_time_mean": _mean(get("lead_time_sum"), int(get("lead_time_count"))),
        "completion_time_mean": _mean(get("completion_seconds_sum"), int(get("tasks_completed"))),
        "reviews_accepted": int(get("reviews_accepted")),
        "reviews_rejected": int(get("reviews_rejected")),
        "accepted_received": int(get("accepted_received")),
        "rejected_received": int(get("rejected_received")),
        "agreement_mean": _mean(get("agreement_sum"), int(get("agreement_count"))),
        "agreement_count": int(get("agreement_count")),
    }


def _user_filter(project_id: int, span: Range, user_id: int | None) -> list[ColumnElement[bool]]:
    where = [
        UserHour.project_id == project_id,
        UserHour.hour >= span.start,
        UserHour.hour < span.end,
    ]
    if user_id is not None:
        where.append(UserHour.user_id == user_id)
    return where


def _by_period(
    rows: Any, interval: Interval, names: tuple[str, ...]
) -> dict[datetime, dict[str, float]]:
    """Hourly sums folded into the interval's periods (at most a few hundred rows: the
    range's hours, summed over people in SQL)."""
    periods: dict[datetime, dict[str, float]] = {}
    for row in rows:
        moment = row.hour.astimezone(UTC)
        folded = periods.setdefault(_floor(moment, interval), dict.fromkeys(names, 0))
        for name in names:
            folded[name] += getattr(row, name) or 0
    return periods


def _summed(periods: dict[datetime, dict[str, float]], names: tuple[str, ...]) -> dict[str, float]:
    return {name: sum(values[name] for values in periods.values()) for name in names}


def series(
    session: Session, *, project_id: int, span: Range, user_id: int | None
) -> tuple[Figures, list[SeriesPoint]]:
    """The project's figures per period (or one person's, with `user_id`), and their totals.

    The project's agreement counts each task once (`analytics_project_hours`); a person's
    is over the tasks they annotated."""
    rows = session.execute(
        select(UserHour.hour, *_sums(UserHour, _USER_SUMS))
        .where(*_user_filter(project_id, span, user_id))
        .group_by(UserHour.hour)
    )
    periods = _by_period(rows, span.interval, _USER_SUMS)
    agreement_names = ("agreement_sum", "agreement_count")
    if user_id is None:
        # The project's agreement: each task once, not once per annotator.
        agreements = _by_period(
            session.execute(
                select(
                    ProjectHour.hour, ProjectHour.agreement_sum, ProjectHour.agreement_count
                ).where(
                    ProjectHour.project_id == project_id,
                    ProjectHour.hour >= span.start,
                    ProjectHour.hour < span.end,
                )
            ),
            span.interval,
            agreement_names,
        )
        for values in periods.values():
            values.update(dict.fromkeys(agreement_names, 0))
        for moment, values in agreements.items():
            periods.setdefault(moment, dict.fromkeys(_USER_SUMS, 0)).update(values)
    points: list[SeriesPoint] = []
    moment = span.start
    step = STEP[span.interval]
    while moment < span.end:
        points.append(SeriesPoint(period=moment, **_figures(periods.get(moment, {}))))
        moment += step
    return Figures(**_figures(_summed(periods, _USER_SUMS))), points


def people(
    session: Session, *, project_id: int, span: Range, user_id: int | None
) -> list[tuple[int, dict[str, Any]]]:
    """Each person's figures over the range (only `user_id`'s when given), by user id;
    people with nothing in the range are left out, as are annotations without an author."""
    rows = session.execute(
        select(UserHour.user_id, *_sums(UserHour, _USER_SUMS))
        .where(*_user_filter(project_id, span, user_id), UserHour.user_id != NO_USER)
        .group_by(UserHour.user_id)
        .order_by(UserHour.user_id)
    ).all()
    answer = []
    for row in rows:
        figures = _figures(dict(row._mapping))
        if any(
            figures[name]
            for name in (
                "annotations",
                "skipped",
                "reviews_accepted",
                "reviews_rejected",
                "accepted_received",
                "rejected_received",
                "agreement_count",
            )
        ):
            answer.append((int(row.user_id), figures))
    return answer

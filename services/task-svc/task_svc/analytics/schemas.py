"""Analytics answers: a project's (or a person's) figures per period, and per person.

Means are null where nothing was measured; periods are UTC days or hours.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Interval = Literal["day", "hour"]


class Figures(BaseModel):
    """What happened in a period (or a whole range)."""

    #: Annotations submitted, and skipped (Label Studio's `was_cancelled`).
    annotations: int
    skipped: int
    #: Tasks whose first submitted annotation falls in the period.
    tasks_completed: int
    #: Mean of annotation `lead_time` (seconds spent), over annotations reporting one.
    lead_time_mean: float | None
    #: Mean seconds from a task's creation to its first submitted annotation.
    completion_time_mean: float | None
    #: Reviews given, by outcome.
    reviews_accepted: int
    reviews_rejected: int
    #: Reviews of the person's annotations, by outcome (the project's: the same as given).
    accepted_received: int
    rejected_received: int
    #: Mean task agreement computed in the period (0 to 1), and over how many tasks.
    agreement_mean: float | None
    agreement_count: int


class SeriesPoint(Figures):
    period: datetime


class AnalyticsSeries(BaseModel):
    """`GET /api/projects/{id}/analytics/`."""

    project: int
    #: The person these figures are of, or null for the whole project.
    user: int | None
    interval: Interval
    #: The range, `from` inclusive, `to` exclusive.
    from_: datetime = Field(alias="from")
    to: datetime
    totals: Figures
    #: One point per period of the range, empty periods included.
    series: list[SeriesPoint]

    model_config = ConfigDict(populate_by_name=True)


class PersonFigures(Figures):
    user: int
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class AnalyticsPeople(BaseModel):
    """`GET /api/projects/{id}/analytics/people/`."""

    project: int
    from_: datetime = Field(alias="from")
    to: datetime
    people: list[PersonFigures]

    model_config = ConfigDict(populate_by_name=True)

"""The fixture tasks every filter test reads (one scratch database for the package).

The expected ids come from plain-Python predicates over the same fixture rows, so each case
states what the filter means; a guard rejects cases that match nothing or everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from labelops_common.db import create_db_engine
from labelops_testing.databases import scratch_database_url
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from task_svc.annotations.models import Annotation
from task_svc.datamanager.filters import (
    compile_filters,
    compile_ordering,
    compile_selected_items,
)
from task_svc.db import Base
from task_svc.imports.models import FileUpload
from task_svc.models import import_all_models
from task_svc.predictions.models import Prediction
from task_svc.tasks.models import Task

N = 30
ALL_IDS = list(range(1, N + 1))
BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)
MISSING = object()
TEXTS: list[Any] = [
    "cat on a mat",
    "Dog",
    "A CAT",
    "bird",
    "fish",
    "",
    MISSING,
    "café",
    "100% pure",
    "under_score",
]
CITIES = ["Paris", "Berlin", "Rome"]
WORDS = ["pear", "apple", "fig", "banana", "cherry"]


@dataclass
class Spec:
    """One fixture task as Python sees it, for the expected-id predicates."""

    id: int
    data: dict[str, Any]
    created_at: datetime
    annotations: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    file_upload_id: int | None = None

    @property
    def finished(self) -> list[dict[str, Any]]:
        return [a for a in self.annotations if not a["was_cancelled"]]

    @property
    def total_annotations(self) -> int:
        return len(self.finished)

    @property
    def cancelled_annotations(self) -> int:
        return len(self.annotations) - len(self.finished)

    @property
    def is_labeled(self) -> bool:
        return self.total_annotations > 0

    @property
    def completed_at(self) -> datetime | None:
        return self.created_at + timedelta(hours=2) if self.is_labeled else None

    @property
    def predictions_score(self) -> float | None:
        scores = [p["score"] for p in self.predictions]
        return sum(scores) / len(scores) if scores else None

    @property
    def annotators(self) -> set[int]:
        return {a["user"] for a in self.annotations if a["user"] is not None}

    @property
    def model_versions(self) -> set[str]:
        return {p["model_version"] for p in self.predictions}


def _build_specs() -> list[Spec]:
    specs = []
    for i in ALL_IDS:
        data: dict[str, Any] = {}
        text = TEXTS[(i - 1) % 10]
        if text is not MISSING:
            data["text"] = text
        if i == 29:
            data["n"] = "n/a"
        elif i % 7 == 0:
            data["n"] = str(i)  # a number written as a string, as CSV imports give
        elif i % 5 != 0:
            data["n"] = i
        if i % 4 != 0:
            data["meta"] = {"city": CITIES[i % 3], "score": i / 10}
        if i <= 20:
            data["flag"] = i % 2 == 0
        if i % 6 != 0:
            data["rank"] = (i * 7) % 11
        data["word"] = WORDS[i % 5]
        spec = Spec(id=i, data=data, created_at=BASE_TIME + timedelta(hours=i))
        if i % 3 == 0:
            spec.annotations.append(
                {"user": 10, "result": [{"value": {"choices": ["Positive"]}}], "gt": i == 6}
            )
        if i % 4 == 0:
            spec.annotations.append(
                {"user": 20, "result": [] if i == 24 else [{"value": {"choices": ["Negative"]}}]}
            )
        if i == 12:
            spec.annotations.append(
                {"user": 30, "result": [{"value": {"labels": ['Café "Noir"']}}], "gt": True}
            )
        if i == 25:
            spec.annotations.append({"user": None, "result": [{"value": {"text": ["imported"]}}]})
        for annotation in spec.annotations:
            annotation.setdefault("gt", False)
            annotation["was_cancelled"] = i == 24 and annotation["user"] == 20
        if i % 5 == 1:
            spec.predictions.append(
                {"model_version": "v1", "score": i / 100, "result": [{"choices": ["Positive"]}]}
            )
        if i in (2, 12, 22):
            spec.predictions.append(
                {"model_version": "v2", "score": 0.5, "result": [{"choices": ["Négatif"]}]}
            )
        if i == 27:
            spec.predictions.append({"model_version": "", "score": 0.9, "result": []})
        if i <= 10:
            spec.file_upload_id = 1
        elif i <= 15:
            spec.file_upload_id = 2
        specs.append(spec)
    return specs


SPECS = _build_specs()
BY_ID = {spec.id: spec for spec in SPECS}


def _insert(engine: Engine) -> None:
    with Session(engine) as session:
        session.add_all(
            [
                FileUpload(id=1, project_id=1, file="upload/1/abcd1234-cats.csv"),
                FileUpload(id=2, project_id=1, file="upload/1/ef567890-dogs_100%.json"),
            ]
        )
        for spec in SPECS:
            session.add(
                Task(
                    id=spec.id,
                    project_id=1,
                    inner_id=spec.id,
                    data=spec.data,
                    meta={},
                    created_at=spec.created_at,
                    updated_at=spec.created_at + timedelta(minutes=30),
                    is_labeled=spec.is_labeled,
                    total_annotations=spec.total_annotations,
                    cancelled_annotations=spec.cancelled_annotations,
                    total_predictions=len(spec.predictions),
                    completed_at=spec.completed_at,
                    predictions_score=spec.predictions_score,
                    file_upload_id=spec.file_upload_id,
                )
            )
        session.flush()
        for spec in SPECS:
            for a in spec.annotations:
                session.add(
                    Annotation(
                        task_id=spec.id,
                        project_id=1,
                        completed_by_id=a["user"],
                        result=a["result"],
                        was_cancelled=a["was_cancelled"],
                        ground_truth=a["gt"],
                    )
                )
            for p in spec.predictions:
                session.add(
                    Prediction(
                        task_id=spec.id,
                        project_id=1,
                        result=p["result"],
                        score=p["score"],
                        model_version=p["model_version"],
                    )
                )
        session.commit()


@dataclass(frozen=True)
class Db:
    engine: Engine


@pytest.fixture(scope="package")
def db() -> Iterator[Db]:
    """One database for the filter tests: the fixture rows are only read."""
    import_all_models()
    with scratch_database_url("dm") as url:
        engine = create_db_engine(url)
        try:
            Base.metadata.create_all(engine)
            _insert(engine)
            yield Db(engine)
        finally:
            engine.dispose()


def _filtered_ids(db: Db, filters: dict[str, Any] | None, selected: Any = None) -> list[int]:
    statement = select(Task.id).order_by(Task.id)
    for condition in (
        compile_filters(filters),
        compile_selected_items(selected),
    ):
        if condition is not None:
            statement = statement.where(condition)
    with db.engine.connect() as connection:
        return list(connection.scalars(statement))


def _ordered_ids(db: Db, ordering: list[str] | None) -> list[int]:
    statement = select(Task.id).order_by(*compile_ordering(ordering))
    with db.engine.connect() as connection:
        return list(connection.scalars(statement))


def _item(column: str, operator: str, value: Any = None, type_: str = "String") -> dict[str, Any]:
    return {"filter": f"filter:tasks:{column}", "operator": operator, "type": type_, "value": value}


def _one(item: dict[str, Any]) -> dict[str, Any]:
    return {"conjunction": "and", "items": [item]}


def _num(value: Any) -> float | None:
    """What a Number filter reads from a data value: numbers and numeric strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _text(spec: Spec) -> str | None:
    return spec.data.get("text")


def _n(spec: Spec) -> float | None:
    return _num(spec.data.get("n"))


def _meta(spec: Spec, key: str) -> Any:
    return spec.data.get("meta", {}).get(key)


def _at(hours: float, suffix: str = "Z") -> str:
    return (BASE_TIME + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.%f") + suffix


Predicate = Callable[[Spec], bool]

"""Data-manager filters, ordering and selection against a real PostgreSQL database.

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
    FilterError,
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


@pytest.fixture(scope="module")
def db() -> Iterator[Db]:
    """One database for the whole module: the fixture rows are only read."""
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

# (case id, filter item, which fixture tasks it should select)
CASES: list[tuple[str, dict[str, Any], Predicate]] = [
    # --- plain task columns -----------------------------------------------------------
    ("id-equal", _item("id", "equal", 5, "Number"), lambda s: s.id == 5),
    ("id-equal-string", _item("id", "equal", "5", "Number"), lambda s: s.id == 5),
    ("id-not-equal", _item("id", "not_equal", 5, "Number"), lambda s: s.id != 5),
    ("id-less", _item("id", "less", 4, "Number"), lambda s: s.id < 4),
    ("id-greater", _item("id", "greater", 27, "Number"), lambda s: s.id > 27),
    ("id-less-or-equal", _item("id", "less_or_equal", 4, "Number"), lambda s: s.id <= 4),
    ("id-greater-or-equal", _item("id", "greater_or_equal", 27, "Number"), lambda s: s.id >= 27),
    ("id-in-range", _item("id", "in", {"min": 3, "max": 6}, "Number"), lambda s: 3 <= s.id <= 6),
    (
        "id-not-in-range",
        _item("id", "not_in", {"min": 3, "max": 28}, "Number"),
        lambda s: not 3 <= s.id <= 28,
    ),
    (
        "id-range-open-max",
        _item("id", "in", {"min": 29, "max": None}, "Number"),
        lambda s: s.id >= 29,
    ),
    ("id-in-list", _item("id", "in_list", [1, 2, 99], "Number"), lambda s: s.id in (1, 2)),
    ("id-not-in-list", _item("id", "not_in_list", [1, 2], "Number"), lambda s: s.id not in (1, 2)),
    ("inner-id", _item("inner_id", "greater_or_equal", 28, "Number"), lambda s: s.id >= 28),
    (
        "total-annotations-zero",
        _item("total_annotations", "equal", 0, "Number"),
        lambda s: s.total_annotations == 0,
    ),
    (
        "total-annotations-many",
        _item("total_annotations", "greater", 1, "Number"),
        lambda s: s.total_annotations > 1,
    ),
    (
        "cancelled-annotations",
        _item("cancelled_annotations", "greater", 0, "Number"),
        lambda s: s.cancelled_annotations > 0,
    ),
    (
        "total-predictions",
        _item("total_predictions", "greater_or_equal", 1, "Number"),
        lambda s: len(s.predictions) >= 1,
    ),
    (
        "predictions-score-less",
        _item("predictions_score", "less", 0.15, "Number"),
        lambda s: s.predictions_score is not None and s.predictions_score < 0.15,
    ),
    (
        "predictions-score-empty",
        _item("predictions_score", "empty", True, "Number"),
        lambda s: s.predictions_score is None,
    ),
    ("is-labeled", _item("is_labeled", "equal", "true", "Boolean"), lambda s: s.is_labeled),
    (
        "is-labeled-false",
        _item("is_labeled", "equal", False, "Boolean"),
        lambda s: not s.is_labeled,
    ),
    # --- datetimes ------------------------------------------------------------------------
    (
        "created-greater",
        _item("created_at", "greater", _at(5), "Datetime"),
        lambda s: s.id > 5,
    ),
    (
        "created-greater-or-equal-offset",
        _item("created_at", "greater_or_equal", "2024-01-01T07:00:00+02:00", "Datetime"),
        lambda s: s.id >= 5,
    ),
    (
        "created-in-range",
        _item("created_at", "in", {"min": _at(3), "max": _at(6)}, "Datetime"),
        lambda s: 3 <= s.id <= 6,
    ),
    (
        "created-not-in-range",
        _item("created_at", "not_in", {"min": _at(3), "max": _at(28)}, "Datetime"),
        lambda s: not 3 <= s.id <= 28,
    ),
    ("created-equal", _item("created_at", "equal", _at(7), "Datetime"), lambda s: s.id == 7),
    (
        "updated-less",
        _item("updated_at", "less", _at(3), "Datetime"),
        lambda s: s.id <= 2,
    ),
    (
        "completed-not-empty",  # the legacy SDK's get_labeled_tasks
        _item("completed_at", "empty", False, "Datetime"),
        lambda s: s.completed_at is not None,
    ),
    (
        "completed-empty",
        _item("completed_at", "empty", "true", "Datetime"),
        lambda s: s.completed_at is None,
    ),
    (
        "completed-before",
        _item("completed_at", "less_or_equal", _at(14), "Datetime"),
        lambda s: s.completed_at is not None and s.id <= 12,
    ),
    # --- related rows ---------------------------------------------------------------------
    (
        "annotators-contains",
        _item("annotators", "contains", 10, "List"),
        lambda s: 10 in s.annotators,
    ),
    (
        "annotators-equal-string",
        _item("annotators", "equal", "20", "List"),
        lambda s: 20 in s.annotators,
    ),
    (
        "annotators-in-list",
        _item("annotators", "in_list", [20, 30], "List"),
        lambda s: bool({20, 30} & s.annotators),
    ),
    (
        "annotators-not-contains",
        _item("annotators", "not_contains", 10, "List"),
        lambda s: 10 not in s.annotators,
    ),
    ("annotators-empty", _item("annotators", "empty", True, "List"), lambda s: not s.annotators),
    (
        "annotators-not-empty",
        _item("annotators", "empty", False, "List"),
        lambda s: bool(s.annotators),
    ),
    (
        "ground-truth",
        _item("ground_truth", "equal", True, "Boolean"),
        lambda s: any(a["gt"] for a in s.annotations),
    ),
    (
        "ground-truth-false",
        _item("ground_truth", "equal", "false", "Boolean"),
        lambda s: not any(a["gt"] for a in s.annotations),
    ),
    (
        "ground-truth-not-equal",
        _item("ground_truth", "not_equal", True, "Boolean"),
        lambda s: not any(a["gt"] for a in s.annotations),
    ),
    (
        "model-version-contains",
        _item("predictions_model_versions", "contains", "v2", "List"),
        lambda s: "v2" in s.model_versions,
    ),
    (
        "model-version-in-list",
        _item("predictions_model_versions", "in_list", ["v1", "v2"], "List"),
        lambda s: bool({"v1", "v2"} & s.model_versions),
    ),
    (
        "model-version-not-contains",
        _item("predictions_model_versions", "not_contains", "v1", "List"),
        lambda s: "v1" not in s.model_versions,
    ),
    (
        "model-version-empty",
        _item("predictions_model_versions", "empty", True, "List"),
        lambda s: not (s.model_versions - {""}),
    ),
    (
        "annotations-results-contains",
        _item("annotations_results", "contains", "negative"),
        lambda s: any("Negative" in str(a["result"]) for a in s.annotations),
    ),
    (
        "annotations-results-non-ascii-and-quotes",
        _item("annotations_results", "contains", 'café "noir"'),
        lambda s: s.id == 12,
    ),
    (
        "annotations-results-not-contains",
        _item("annotations_results", "not_contains", "positive"),
        lambda s: not any("Positive" in str(a["result"]) for a in s.annotations),
    ),
    (
        "annotations-results-empty",
        _item("annotations_results", "empty", True),
        lambda s: not s.annotations,
    ),
    (
        "predictions-results-contains",
        _item("predictions_results", "contains", "négatif"),
        lambda s: "v2" in s.model_versions,
    ),
    (
        "predictions-results-not-contains",
        _item("predictions_results", "not_contains", "POSITIVE"),
        lambda s: "v1" not in s.model_versions,
    ),
    (
        "file-upload-contains",
        _item("file_upload", "contains", "CATS"),
        lambda s: s.file_upload_id == 1,
    ),
    (
        "file-upload-contains-percent",
        _item("file_upload", "contains", "_100%"),
        lambda s: s.file_upload_id == 2,
    ),
    (
        "file-upload-equal-name",
        _item("file_upload", "equal", "abcd1234-cats.csv"),
        lambda s: s.file_upload_id == 1,
    ),
    (
        "file-upload-not-contains",
        _item("file_upload", "not_contains", "cats"),
        lambda s: s.file_upload_id != 1,
    ),
    ("file-upload-empty", _item("file_upload", "empty", True), lambda s: s.file_upload_id is None),
    (
        "file-upload-id",
        _item("file_upload", "equal", 2, "Number"),
        lambda s: s.file_upload_id == 2,
    ),
    # --- task data ------------------------------------------------------------------------
    ("data-equal", _item("data.text", "equal", "Dog"), lambda s: _text(s) == "Dog"),
    ("data-not-equal", _item("data.text", "not_equal", "Dog"), lambda s: _text(s) != "Dog"),
    (
        "data-contains-case-insensitive",
        _item("data.text", "contains", "cat"),
        lambda s: "cat" in (_text(s) or "").lower(),
    ),
    (
        "data-not-contains",
        _item("data.text", "not_contains", "CAT"),
        lambda s: "cat" not in (_text(s) or "").lower(),
    ),
    (
        "data-contains-percent",
        _item("data.text", "contains", "0%"),
        lambda s: _text(s) == "100% pure",
    ),
    (
        "data-contains-underscore",
        _item("data.text", "contains", "r_s"),
        lambda s: _text(s) == "under_score",
    ),
    ("data-contains-non-ascii", _item("data.text", "contains", "fé"), lambda s: _text(s) == "café"),
    ("data-empty", _item("data.text", "empty", True), lambda s: not _text(s)),
    ("data-not-empty", _item("data.text", "empty", "false"), lambda s: bool(_text(s))),
    (
        "data-in-list",
        _item("data.text", "in_list", ["Dog", "bird"]),
        lambda s: _text(s) in ("Dog", "bird"),
    ),
    (
        "data-not-in-list",
        _item("data.text", "not_in_list", ["Dog", "bird"]),
        lambda s: _text(s) not in ("Dog", "bird"),
    ),
    (
        "data-number-greater",
        _item("data.n", "greater", 20, "Number"),
        lambda s: (_n(s) or 0) > 20,
    ),
    (
        "data-number-equal-numeric-string",
        _item("data.n", "equal", "7", "Number"),
        lambda s: _n(s) == 7,
    ),
    (
        "data-number-in-range",
        _item("data.n", "in", {"min": 9, "max": 15}, "Number"),
        lambda s: _n(s) is not None and 9 <= _n(s) <= 15,  # type: ignore[operator]
    ),
    (
        "data-number-not-in-range",
        _item("data.n", "not_in", {"min": 2, "max": 28}, "Number"),
        lambda s: _n(s) is None or not 2 <= _n(s) <= 28,  # type: ignore[operator]
    ),
    (
        "data-number-in-list",
        _item("data.n", "in_list", [3, "14", 4.0], "Number"),
        lambda s: _n(s) in (3, 14, 4),
    ),
    (
        "data-number-less-or-equal",
        _item("data.n", "less_or_equal", 3.5, "Number"),
        lambda s: _n(s) is not None and _n(s) <= 3.5,  # type: ignore[operator]
    ),
    (
        "data-number-as-text",
        _item("data.n", "equal", "3", "String"),
        lambda s: s.data.get("n") == 3,
    ),
    ("data-number-empty", _item("data.n", "empty", True, "Number"), lambda s: "n" not in s.data),
    (
        "data-boolean",
        _item("data.flag", "equal", True, "Boolean"),
        lambda s: s.data.get("flag") is True,
    ),
    (
        "data-boolean-not-equal",
        _item("data.flag", "not_equal", "true", "Boolean"),
        lambda s: s.data.get("flag") is not True,
    ),
    (
        "data-nested-equal",
        _item("data.meta.city", "equal", "Paris"),
        lambda s: _meta(s, "city") == "Paris",
    ),
    (
        "data-nested-number",
        _item("data.meta.score", "greater_or_equal", 1.5, "Number"),
        lambda s: (_meta(s, "score") or 0) >= 1.5,
    ),
    (
        "data-nested-empty",
        _item("data.meta.city", "empty", True),
        lambda s: _meta(s, "city") is None,
    ),
]


@pytest.mark.parametrize(("item", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_filter_item(db: Db, item: dict[str, Any], expected: Predicate) -> None:
    want = [spec.id for spec in SPECS if expected(spec)]
    assert 0 < len(want) < N, "a case must tell matching rows from the others"
    assert _filtered_ids(db, _one(item)) == want


def test_literal_ids_for_a_few_cases(db: Db) -> None:
    """Spot checks with spelled-out ids, in case a predicate and the code share a mistake."""
    assert _filtered_ids(db, _one(_item("data.text", "contains", "cat"))) == [1, 3, 11, 13, 21, 23]
    assert _filtered_ids(db, _one(_item("ground_truth", "equal", True, "Boolean"))) == [6, 12]
    assert _filtered_ids(db, _one(_item("annotators", "contains", 30, "List"))) == [12]
    assert _filtered_ids(db, _one(_item("cancelled_annotations", "greater", 0, "Number"))) == [24]
    assert _filtered_ids(db, _one(_item("data.n", "greater", 25, "Number"))) == [26, 27, 28]
    assert _filtered_ids(db, _one(_item("data.text", "empty", True))) == [6, 7, 16, 17, 26, 27]


def test_conjunctions_and_child_filter(db: Db) -> None:
    annotated_by_10 = _item("annotators", "contains", 10, "List")
    flagged = _item("data.flag", "equal", True, "Boolean")
    assert _filtered_ids(db, {"conjunction": "and", "items": [annotated_by_10, flagged]}) == [
        6,
        12,
        18,
    ]
    assert _filtered_ids(
        db,
        {
            "conjunction": "or",
            "items": [_item("id", "equal", 1, "Number"), _item("id", "equal", 30, "Number")],
        },
    ) == [1, 30]
    parent_with_child = {**annotated_by_10, "child_filter": flagged}
    assert _filtered_ids(db, {"conjunction": "or", "items": [parent_with_child]}) == [6, 12, 18]
    assert _filtered_ids(
        db,
        {
            "conjunction": "or",
            "items": [parent_with_child, _item("id", "equal", 1, "Number")],
        },
    ) == [1, 6, 12, 18]


def test_items_without_a_value_are_skipped(db: Db) -> None:
    """The data manager sends a filter before the user picks its value (Label Studio skips it)."""
    unfilled = {"filter": "filter:tasks:data.text", "operator": "contains", "type": "String"}
    assert compile_filters(_one(unfilled)) is None
    assert compile_filters(_one({**unfilled, "value": None})) is None
    both = {"conjunction": "and", "items": [unfilled, _item("id", "less", 3, "Number")]}
    assert _filtered_ids(db, both) == [1, 2]
    # The column and operator are still checked.
    with pytest.raises(FilterError) as caught:
        compile_filters(_one({**unfilled, "filter": "filter:tasks:nope"}))
    assert caught.value.field == "filters.items[0].filter"


@pytest.mark.parametrize("filters", [None, {}, {"conjunction": "and", "items": []}])
def test_no_filters_select_everything(db: Db, filters: Any) -> None:
    assert compile_filters(filters) is None
    assert _filtered_ids(db, filters) == ALL_IDS


def test_regex(db: Db) -> None:
    item = _item("data.text", "regex", "^[a-z]+$")
    want = [s.id for s in SPECS if _text(s) in ("bird", "fish")]  # "é" is not [a-z]
    assert _filtered_ids(db, _one(item)) == want
    with pytest.raises(FilterError) as caught:
        compile_filters(_one(_item("data.text", "regex", "([a-z")))
    assert caught.value.field == "filters.items[0].value"


# --- ordering -----------------------------------------------------------------------------


def _sort_key(value: Any) -> tuple[int, Any]:
    """NULL last, as compile_ordering sorts it ascending."""
    return (1, 0) if value is None else (0, value)


def test_ordering_by_counter_ties_broken_by_id(db: Db) -> None:
    assert _ordered_ids(db, ["tasks:total_annotations"]) == sorted(
        ALL_IDS, key=lambda i: (BY_ID[i].total_annotations, i)
    )
    assert _ordered_ids(db, ["-tasks:total_annotations"]) == sorted(
        ALL_IDS, key=lambda i: (BY_ID[i].total_annotations, i), reverse=True
    )


def test_ordering_by_data_fields(db: Db) -> None:
    ranks = [BY_ID[i].data.get("rank") for i in ALL_IDS]
    assert any(r is None for r in ranks) and any(r == 10 for r in ranks)
    # Numbers sort as numbers (10 after 9), missing values last, ties by id.
    assert _ordered_ids(db, ["tasks:data.rank"]) == sorted(
        ALL_IDS, key=lambda i: (_sort_key(BY_ID[i].data.get("rank")), i)
    )
    assert _ordered_ids(db, ["-tasks:data.word"]) == sorted(
        ALL_IDS, key=lambda i: (BY_ID[i].data["word"], i), reverse=True
    )
    assert _ordered_ids(db, ["filter:tasks:data.meta.score"]) == sorted(
        ALL_IDS, key=lambda i: (_sort_key(_meta(BY_ID[i], "score")), i)
    )


def test_ordering_by_several_keys(db: Db) -> None:
    got = _ordered_ids(db, ["-tasks:completed_at", "tasks:data.word", "filter:tasks:inner_id"])

    def key(i: int) -> tuple[Any, ...]:
        completed = BY_ID[i].completed_at
        # Descending completed_at with NULLs first, then the other keys ascending.
        return (
            completed is not None,
            -(completed.timestamp() if completed else 0),
            BY_ID[i].data["word"],
            i,
        )

    assert got == sorted(ALL_IDS, key=key)


def test_ordering_by_related_columns(db: Db) -> None:
    def first_annotator(i: int) -> Any:
        users = [a["user"] for a in BY_ID[i].annotations if a["user"] is not None]
        return min(users) if users else None

    assert _ordered_ids(db, ["tasks:annotators"]) == sorted(
        ALL_IDS, key=lambda i: (_sort_key(first_annotator(i)), i)
    )
    gt = [6, 12]
    assert _ordered_ids(db, ["-tasks:ground_truth"]) == gt[::-1] + [
        i for i in ALL_IDS[::-1] if i not in gt
    ]
    got = _ordered_ids(db, ["tasks:predictions_model_versions", "tasks:file_upload"])
    assert got == sorted(
        ALL_IDS,
        key=lambda i: (
            _sort_key(min(BY_ID[i].model_versions, default=None)),
            _sort_key(BY_ID[i].file_upload_id),
            i,
        ),
    )


def test_ordering_defaults_and_id_tiebreaker(db: Db) -> None:
    assert _ordered_ids(db, None) == ALL_IDS
    assert _ordered_ids(db, []) == ALL_IDS
    assert _ordered_ids(db, ["-tasks:id"]) == ALL_IDS[::-1]
    assert len(compile_ordering(["-tasks:id"])) == 1
    assert len(compile_ordering(["tasks:created_at"])) == 2
    assert _ordered_ids(db, ["tasks:updated_at"]) == ALL_IDS


# --- selected items -----------------------------------------------------------------------


def test_selected_items(db: Db) -> None:
    assert compile_selected_items(None) is None
    assert compile_selected_items({}) is None
    assert compile_selected_items({"all": True, "excluded": []}) is None
    assert _filtered_ids(db, None, {"all": True, "excluded": [1, 2, 99]}) == ALL_IDS[2:]
    assert _filtered_ids(db, None, {"all": False, "included": [5, 3, "7"]}) == [3, 5, 7]
    assert _filtered_ids(db, None, {"all": False, "included": []}) == []
    big = list(range(1, 70_001))  # past PostgreSQL's 65,535 bind parameters
    assert _filtered_ids(db, None, {"all": False, "included": big}) == ALL_IDS
    labeled = _one(_item("is_labeled", "equal", True, "Boolean"))
    assert _filtered_ids(db, labeled, {"all": True, "excluded": [3]}) == [
        s.id for s in SPECS if s.is_labeled and s.id != 3
    ]


@pytest.mark.parametrize(
    "selected",
    [
        [1, 2],
        {"excluded": [1]},
        {"all": "yes", "excluded": [1]},
        {"all": True, "excluded": "1,2"},
        {"all": False, "included": [1, "x"]},
        {"all": False, "included": [True]},
        {"all": False, "included": [1], "excluded": [2]},
    ],
)
def test_selected_items_errors(selected: Any) -> None:
    with pytest.raises(FilterError) as caught:
        compile_selected_items(selected)
    assert caught.value.field == "selectedItems"


# --- errors -------------------------------------------------------------------------------

OK = _item("id", "equal", 1, "Number")

ERROR_CASES: list[tuple[str, Any, str, str]] = [
    ("not-an-object", [OK], "filters", "object"),
    (
        "bad-conjunction",
        {"conjunction": "xor", "items": [OK]},
        "filters.conjunction",
        "'and' or 'or'",
    ),
    ("items-not-list", {"conjunction": "and", "items": OK}, "filters.items", "list"),
    ("item-not-object", {"conjunction": "and", "items": [OK, "id"]}, "filters.items[1]", "object"),
    (
        "missing-filter",
        _one({"operator": "equal", "value": 1}),
        "filters.items[0].filter",
        "required",
    ),
    (
        "wrong-prefix",
        _one({**OK, "filter": "filter:annotations:id"}),
        "filters.items[0].filter",
        "filter:tasks:",
    ),
    (
        "unknown-column",
        _one(_item("nope", "equal", 1)),
        "filters.items[0].filter",
        "unknown column",
    ),
    (
        "double-underscore",
        {"conjunction": "and", "items": [OK, _item("id__gt", "equal", 1)]},
        "filters.items[1].filter",
        "'__'",
    ),
    (
        "double-underscore-in-data",
        _one(_item("data.a__b", "equal", "x")),
        "filters.items[0].filter",
        "'__'",
    ),
    ("data-without-key", _one(_item("data.", "equal", "x")), "filters.items[0].filter", "key"),
    (
        "unsupported-column",
        _one(_item("comments", "equal", 1)),
        "filters.items[0].filter",
        "not supported",
    ),
    (
        "unknown-operator",
        _one(_item("id", "like", 1)),
        "filters.items[0].operator",
        "unknown operator",
    ),
    (
        "unimplemented-operator",
        _one(_item("data.text", "starts_with", "a")),
        "filters.items[0].operator",
        "not implemented",
    ),
    (
        "missing-operator",
        _one({"filter": "filter:tasks:id", "value": 1}),
        "filters.items[0].operator",
        "required",
    ),
    ("bad-type", _one({**OK, "type": 3}), "filters.items[0].type", "string"),
    (
        "number-not-number",
        _one(_item("id", "equal", "abc", "Number")),
        "filters.items[0].value",
        "number",
    ),
    (
        "number-is-bool",
        _one(_item("id", "greater", True, "Number")),
        "filters.items[0].value",
        "number",
    ),
    (
        "range-not-object",
        _one(_item("id", "in", [1, 2], "Number")),
        "filters.items[0].value",
        "min",
    ),
    (
        "range-no-bounds",
        _one(_item("id", "in", {"min": None, "max": None})),
        "filters.items[0].value",
        "min",
    ),
    (
        "range-bad-bound",
        _one(_item("created_at", "in", {"min": "yesterday", "max": _at(1)}, "Datetime")),
        "filters.items[0].value.min",
        "ISO 8601",
    ),
    ("list-not-list", _one(_item("id", "in_list", 1, "Number")), "filters.items[0].value", "list"),
    (
        "list-bad-element",
        _one(_item("id", "in_list", [1, "two"], "Number")),
        "filters.items[0].value[1]",
        "number",
    ),
    (
        "bad-datetime",
        _one(_item("created_at", "less", "soon", "Datetime")),
        "filters.items[0].value",
        "ISO",
    ),
    (
        "bad-boolean",
        _one(_item("is_labeled", "equal", "maybe", "Boolean")),
        "filters.items[0].value",
        "true or false",
    ),
    (
        "bad-empty-flag",
        _one(_item("completed_at", "empty", 3)),
        "filters.items[0].value",
        "true or false",
    ),
    (
        "boolean-less",
        _one(_item("is_labeled", "less", True, "Boolean")),
        "filters.items[0].operator",
        "Boolean",
    ),
    (
        "data-boolean-less",
        _one(_item("data.flag", "less", True, "Boolean")),
        "filters.items[0].operator",
        "Boolean",
    ),
    ("contains-on-number", _one(_item("id", "contains", "1")), "filters.items[0].operator", "text"),
    (
        "text-value-object",
        _one(_item("data.text", "equal", {"a": 1})),
        "filters.items[0].value",
        "string",
    ),
    (
        "annotators-not-id",
        _one(_item("annotators", "contains", "bob", "List")),
        "filters.items[0].value",
        "number",
    ),
    (
        "annotators-float",
        _one(_item("annotators", "contains", 1.5, "List")),
        "filters.items[0].value",
        "user id",
    ),
    (
        "annotators-operator",
        _one(_item("annotators", "less", 1, "List")),
        "filters.items[0].operator",
        "annotators",
    ),
    (
        "ground-truth-operator",
        _one(_item("ground_truth", "contains", True)),
        "filters.items[0].operator",
        "Boolean",
    ),
    (
        "results-operator",
        _one(_item("annotations_results", "equal", "x")),
        "filters.items[0].operator",
        "annotations_results",
    ),
    (
        "mixed-conjunctions",
        {"conjunction": "and", "items": [OK, {**OK, "conjunction": "or"}]},
        "filters.items[1].conjunction",
        "mixed",
    ),
    (
        "child-error-path",
        {
            "conjunction": "and",
            "items": [OK, {**OK, "child_filter": _item("id", "equal", "x", "Number")}],
        },
        "filters.items[1].child_filter.value",
        "number",
    ),
    (
        "child-nested-twice",
        _one({**OK, "child_filter": {**OK, "child_filter": OK}}),
        "filters.items[0].child_filter.child_filter",
        "one level",
    ),
    (
        "child-not-object",
        _one({**OK, "child_filter": "x"}),
        "filters.items[0].child_filter",
        "filter item",
    ),
]


@pytest.mark.parametrize(
    ("filters", "field", "reason"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_filter_errors(filters: Any, field: str, reason: str) -> None:
    with pytest.raises(FilterError) as caught:
        compile_filters(filters)
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert str(caught.value).startswith(field + ": ")


@pytest.mark.parametrize(
    ("ordering", "field", "reason"),
    [
        ("tasks:id", "ordering", "list"),
        (["tasks:id", "tasks:nope"], "ordering[1]", "unknown column"),
        (["tasks:id__x"], "ordering[0]", "'__'"),
        (["-tasks:annotations_results"], "ordering[0]", "cannot order"),
        (["tasks:comments"], "ordering[0]", "cannot order"),
        ([3], "ordering[0]", "column name"),
        (["-"], "ordering[0]", "column name"),
        (["projects:id"], "ordering[0]", "tasks:"),
        (["tasks:"], "ordering[0]", "no column"),
        (["tasks:data."], "ordering[0]", "key"),
    ],
)
def test_ordering_errors(ordering: Any, field: str, reason: str) -> None:
    with pytest.raises(FilterError) as caught:
        compile_ordering(ordering)
    assert caught.value.field == field
    assert reason in caught.value.reason

"""Orderings compiled to ORDER BY, against real PostgreSQL rows, and the orderings refused."""

from __future__ import annotations

from typing import Any

import pytest
from task_svc.datamanager.filters import (
    FilterError,
    compile_ordering,
)

from .conftest import (  # type: ignore[import-not-found]
    ALL_IDS,
    BY_ID,
    Db,
    _meta,
    _ordered_ids,
)

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


@pytest.mark.parametrize(
    ("ordering", "field", "reason"),
    [
        ("tasks:id", "ordering", "list"),
        (["tasks:id", "tasks:nope"], "ordering[1]", "unknown column"),
        (["tasks:id__x"], "ordering[0]", "'__'"),
        (["-tasks:annotations_results"], "ordering[0]", "cannot order"),
        (["tasks:comment_authors"], "ordering[0]", "cannot order"),
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

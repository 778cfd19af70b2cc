"""After a bulk write that grows a table by a tenth or more, its statistics are refreshed
at once rather than when autovacuum next looks (up to a minute later)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from task_svc.db import analyze_if_grown


def _known_rows(engine: Any, table: str) -> float:
    with engine.connect() as connection:
        return float(
            connection.scalar(
                text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
            )
        )


def test_a_table_is_analyzed_when_it_grew_by_a_tenth(stack: Any) -> None:
    engine = stack.task_runtime.database.engine
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS analyze_probe"))
        connection.execute(text("CREATE TABLE analyze_probe (id int)"))
        connection.execute(text("INSERT INTO analyze_probe SELECT generate_series(1, 500)"))
    try:
        assert _known_rows(engine, "analyze_probe") < 0  # never analyzed
        assert analyze_if_grown(engine, "analyze_probe", added=500) is True
        assert _known_rows(engine, "analyze_probe") == 500
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO analyze_probe SELECT generate_series(1, 60)"))
        assert analyze_if_grown(engine, "analyze_probe", added=0) is False
        assert analyze_if_grown(engine, "analyze_probe", added=49) is False  # under a tenth
        assert _known_rows(engine, "analyze_probe") == 500
        assert analyze_if_grown(engine, "analyze_probe", added=60) is True
        assert _known_rows(engine, "analyze_probe") == 560
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE analyze_probe"))


def test_an_import_leaves_the_tasks_table_analyzed(
    stack: Any, cast: Any, make_project: Any
) -> None:
    """The inline import path runs it: the planner knows the new rows right away."""
    engine = stack.task_runtime.database.engine
    before = _known_rows(engine, "tasks")
    project = make_project()
    answer = stack.task.post(
        f"/api/projects/{project}/import",
        json=[{"text": f"t{n}"} for n in range(300)],
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    with engine.connect() as connection:
        rows = connection.scalar(text("SELECT count(*) FROM tasks"))
    if before < 0 or 0.1 * before <= 300:
        assert _known_rows(engine, "tasks") == rows
    else:  # a tenth of a large table: autovacuum's business
        assert _known_rows(engine, "tasks") == before

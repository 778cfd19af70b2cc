"""`uv run python -m bench.analytics --size 1000000`: what analytics costs at scale.

On a fresh task-svc database (the test PostgreSQL, migrated to head), it writes N tasks
with overlap 2 (2N annotations by 50 annotators over 30 days, lead times 5..125 s, one in
twenty skipped) and an agreement for every task, all set-based, then measures:

- `backfill_s`: `labelops analytics-backfill`'s work for the project (facts and rollups
  recomputed from the annotations), once;
- the API's reads, median and p95 of `--runs` calls of the service functions the routes
  call: the project's series per day over 30 days, per hour over 48 hours, one person's
  series, and the per-person table;
- `event_ms`: one annotation event's handler work (`sync_annotations` of an annotation whose
  lead time changed, committed), median of `--runs`.

Nothing here is a test: it measures and prints.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import task_svc
from labelops_common.db import Database
from labelops_common.migrations import upgrade_to_head
from sqlalchemy import text
from task_svc.analytics import backfill, service
from task_svc.analytics.backfill import ANALYZED
from task_svc.analytics.rollups import sync_annotations
from task_svc.db import analyze_if_grown

from bench.infra import log, postgres_server, scratch_databases

PROJECT = 1
ANNOTATORS = 50
START = datetime(2026, 11, 1, tzinfo=UTC)

_TASKS = """
INSERT INTO tasks (id, project_id, inner_id, data, meta, created_at, updated_at, is_labeled,
                   overlap, total_annotations, cancelled_annotations, total_predictions)
SELECT n, :project, n, jsonb_build_object('text', 't' || n), '{}'::jsonb,
       :start + (n * interval '30 days') / :size, :start + (n * interval '30 days') / :size,
       true, 2, 2, 0, 0
FROM generate_series(1, :size) n
"""
_ANNOTATIONS = """
INSERT INTO annotations (task_id, project_id, completed_by_id, result, was_cancelled,
                         ground_truth, created_at, updated_at, lead_time, bulk_created)
SELECT n, :project, 1 + ((n * 2 + k) % :annotators), '[]'::jsonb, (n + k) % 20 = 0, false,
       :start + (n * interval '30 days') / :size + k * interval '7 minutes',
       :start + (n * interval '30 days') / :size + k * interval '7 minutes',
       5 + (n * 7 + k * 13) % 120, true
FROM generate_series(1, :size) n CROSS JOIN generate_series(0, 1) k
"""
_AGREEMENTS = """
INSERT INTO analytics_agreement_facts (task_id, project_id, hour, agreement, annotator_ids, as_of)
SELECT n, :project,
       date_trunc('hour', :start + (n * interval '30 days') / :size + interval '10 minutes', 'UTC'),
       ((n * 37) % 101) / 100.0,
       ARRAY[1 + ((n * 2) % :annotators), 1 + ((n * 2 + 1) % :annotators)]::bigint[],
       :start + (n * interval '30 days') / :size + interval '10 minutes'
FROM generate_series(1, :size) n
"""


def _timed(runs: int, call: Callable[[], Any]) -> dict[str, float]:
    took = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        took.append((time.perf_counter() - began) * 1000)
    took.sort()
    return {
        "median_ms": round(statistics.median(took), 2),
        "p95_ms": round(took[min(len(took) - 1, math.ceil(len(took) * 0.95) - 1)], 2),
    }


def measure(database: Database, *, size: int, runs: int) -> dict[str, Any]:
    params = {"project": PROJECT, "size": size, "start": START, "annotators": ANNOTATORS}
    with database.session() as session:
        began = time.perf_counter()
        for statement in (_TASKS, _ANNOTATIONS, _AGREEMENTS):
            session.execute(text(statement), params)
        session.commit()
        log(
            f"wrote {size:,} tasks, {2 * size:,} annotations in {time.perf_counter() - began:.1f} s"
        )
    with database.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    figures: dict[str, Any] = {"tasks": size, "annotations": 2 * size}
    with database.session() as session:
        began = time.perf_counter()
        figures["counted"] = backfill.backfill_project(session, project_id=PROJECT)
        session.commit()
        figures["backfill_s"] = round(time.perf_counter() - began, 2)
    for table in ANALYZED:
        analyze_if_grown(database.engine, table, added=2 * size)
    with database.session() as session:
        figures["rollup_rows"] = session.scalar(text("SELECT count(*) FROM analytics_user_hours"))
    log(f"backfill: {figures['backfill_s']} s, {figures['rollup_rows']:,} rollup rows")

    month = service.parse_range(start="2026-11-01", end="2026-11-30", interval="day")
    two_days = service.parse_range(
        start="2026-11-14T00:00", end="2026-11-16T00:00", interval="hour"
    )
    with database.session() as session:
        figures["series_day_30d"] = _timed(
            runs, lambda: service.series(session, project_id=PROJECT, span=month, user_id=None)
        )
        figures["series_hour_48h"] = _timed(
            runs, lambda: service.series(session, project_id=PROJECT, span=two_days, user_id=None)
        )
        figures["series_one_person_30d"] = _timed(
            runs, lambda: service.series(session, project_id=PROJECT, span=month, user_id=7)
        )
        figures["people_30d"] = _timed(
            runs, lambda: service.people(session, project_id=PROJECT, span=month, user_id=None)
        )
        totals, _ = service.series(session, project_id=PROJECT, span=month, user_id=None)
        figures["check_annotations_plus_skipped"] = totals.annotations + totals.skipped
        ids = list(
            session.scalars(
                text("SELECT id FROM annotations ORDER BY id DESC LIMIT :n"), {"n": runs}
            )
        )

    def one_event(state: dict[str, int] = {"i": 0}) -> None:  # noqa: B006 - a counter
        annotation_id = ids[state["i"] % len(ids)]
        state["i"] += 1
        with database.session() as session:
            session.execute(
                text("UPDATE annotations SET lead_time = lead_time + 1 WHERE id = :id"),
                {"id": annotation_id},
            )
            sync_annotations(session, project_id=PROJECT, annotation_ids=[annotation_id])
            session.commit()

    figures["event_ms"] = _timed(runs, one_event)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000, help="tasks (default 1000000)")
    parser.add_argument("--runs", type=int, default=20, help="calls per read measured")
    args = parser.parse_args(argv)
    # The running test PostgreSQL when its URL is in the environment (never started or
    # stopped here), else bench's own (`postgres_server`).
    given = os.environ.get("LABELOPS_TEST_POSTGRES_URL")
    server_context = contextlib.nullcontext(given) if given else postgres_server()
    with server_context as server, scratch_databases(server, ["analytics"]) as urls:
        upgrade_to_head(
            script_location=Path(task_svc.__file__).parent / "migrations",
            database_url=urls["analytics"],
            service_name="task-svc",
        )
        database = Database.from_url(urls["analytics"], pool_size=1)
        try:
            figures = measure(database, size=args.size, runs=args.runs)
        finally:
            database.engine.dispose()
    print(f"\n== analytics at {args.size:,} tasks, overlap 2 (PostgreSQL) ==")
    for name, value in figures.items():
        print(f"{name:32} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The data manager's agreement filter at N tasks with overlap 2, against today's list queries.

`python -m bench.agreement [--sizes 100000,1000000] [--runs 20]` (also the last step of
`make bench`, with `AGREEMENT_SIZES`):

1. imports the N bench tasks with task-svc's own bulk path (`imports.writer.write_tasks`)
   into a fresh, migrated task-svc database (project 1, overlap 2);
2. seeds 2N annotations set-based (one `INSERT ... SELECT`): annotators 1001 and 1002 each
   label every task; they disagree on one task in four (`id % 4 = 0`), so a quarter of the
   tasks score 0 and the rest 1. The tasks' counters follow in one `UPDATE`;
3. computes every task's agreement with the write path's own code, `agreement.service.
   refresh_project` (the batched recompute: annotations read 2,000 tasks per round trip,
   scored by `agreement.metrics`, rows upserted), and prints its rate;
4. times `datamanager.service.list_tasks`, the function behind `GET /api/tasks` (so no HTTP
   in either figure), page 1 of 100 `task_only` rows, for: today's `unlabeled-newest`
   (`total_annotations equal 0`, `-tasks:id`) and the whole project by `-tasks:id`, and the
   agreement filter `agreement less 0.5` ordered by id, by agreement, and a deep page. The
   first call of each (the selection's totals are counted, then cached under the project's
   `tasks_version`) and the median / p95 of `--runs` calls after it are printed.

Figures only, nothing asserted; results go to `bench/results/agreement-<timestamp>.json`.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import task_svc
from labelops_common.directory import ProjectInfo
from labelops_common.labelconfig.parser import parse_label_config
from labelops_common.migrations import upgrade_to_head
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session
from task_svc.agreement import service as agreement
from task_svc.datamanager import service as dm
from task_svc.imports import formats
from task_svc.imports.writer import write_tasks
from task_svc.tasks.models import Task

from bench.dataset import tasks_file
from bench.infra import log, postgres_server, scratch_databases
from bench.targets import LABEL_CONFIG

CACHE = Path(__file__).parent / ".cache"
RESULTS = Path(__file__).parent / "results"
PROJECT = 1
ANNOTATORS = (1001, 1002)

SEED_ANNOTATIONS = text(
    """
    INSERT INTO annotations (task_id, project_id, completed_by_id, updated_by_id, result,
                             was_cancelled, ground_truth, created_at, updated_at,
                             last_action, bulk_created)
    SELECT t.id, t.project_id, u.id, u.id,
           jsonb_build_array(jsonb_build_object(
               'id', 'r1', 'from_name', 'sentiment', 'to_name', 'text', 'type', 'choices',
               'value', jsonb_build_object('choices', jsonb_build_array(
                   CASE WHEN u.id = :second AND t.id % 4 = 0 THEN 'negative' ELSE 'positive' END
               )))),
           false, false, now(), now(), 'submitted', true
    FROM tasks t CROSS JOIN (VALUES (:first), (:second)) AS u(id)
    WHERE t.project_id = :project
    ORDER BY t.id, u.id
    """
)
SEED_COUNTERS = [
    text(
        "UPDATE tasks SET total_annotations = 2, useful_annotations = 2, is_labeled = true,"
        " completed_at = now(), overlap = 2 WHERE project_id = :project"
    ),
    text(
        "UPDATE project_counters SET total_annotations_number = 2 * task_number,"
        " useful_annotation_number = 2 * task_number, finished_task_number = task_number,"
        " num_tasks_with_annotations = task_number, tasks_version = tasks_version + 1"
        " WHERE project_id = :project"
    ),
]


def _query(items: list[dict[str, Any]], ordering: list[str]) -> dm.Selection:
    filters = {"conjunction": "and", "items": items} if items else None
    return dm.Selection(filters=filters, ordering=ordering)


def _number(column: str, operator: str, value: float) -> dict[str, Any]:
    return {
        "filter": f"filter:tasks:{column}",
        "operator": operator,
        "type": "Number",
        "value": value,
    }


#: name → (selection, page): today's list targets first, then the agreement filter.
QUERIES: dict[str, tuple[dm.Selection, int]] = {
    "whole-project-newest": (_query([], ["-tasks:id"]), 1),
    "unlabeled-newest": (_query([_number("total_annotations", "equal", 0)], ["-tasks:id"]), 1),
    "agreement<0.5 by id": (_query([_number("agreement", "less", 0.5)], ["tasks:id"]), 1),
    "agreement<0.5 newest": (_query([_number("agreement", "less", 0.5)], ["-tasks:id"]), 1),
    "agreement<0.5 by agreement": (
        _query([_number("agreement", "less", 0.5)], ["tasks:agreement"]),
        1,
    ),
    "agreement<0.5 deep page": (_query([_number("agreement", "less", 0.5)], ["tasks:id"]), 0),
}


def seed(session: Session, *, project: ProjectInfo, size: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    started = time.perf_counter()
    with tasks_file(CACHE, size).open("rb") as body:
        write_tasks(session, project=project, items=formats.iter_json_tasks(body), user_id=1)
    session.commit()
    figures["import_s"] = time.perf_counter() - started
    started = time.perf_counter()
    first, second = ANNOTATORS
    session.execute(SEED_ANNOTATIONS, {"first": first, "second": second, "project": PROJECT})
    for statement in SEED_COUNTERS:
        session.execute(statement, {"project": PROJECT})
    session.commit()
    figures["seed_annotations_s"] = time.perf_counter() - started
    started = time.perf_counter()
    scored = agreement.refresh_project(session, project=project, announce=False)
    session.commit()
    figures["refresh_project_s"] = time.perf_counter() - started
    figures["refresh_project_tasks_per_s"] = scored / figures["refresh_project_s"]
    session.execute(text("ANALYZE"))
    session.commit()
    return figures


def _page_plan(session: Session, compiled: dm.CompiledSelection, *, page: int) -> list[str]:
    """EXPLAIN ANALYZE of the page's id query (`dm.page_ids`), to see which index serves it."""
    statement = (
        select(Task.id)
        .where(*compiled.where)
        .order_by(*compiled.order_by)
        .offset((page - 1) * 100)
        .limit(100)
    )
    compiled_sql = statement.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    rows = session.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF) {compiled_sql}")).scalars()
    plan = [str(row) for row in rows]
    session.rollback()
    return plan


def time_queries(session: Session, *, size: int, runs: int) -> dict[str, dict[str, Any]]:
    timings: dict[str, dict[str, Any]] = {}
    for name, (selection, page) in QUERIES.items():
        compiled = dm.compile_selection(session, project_id=PROJECT, selection=selection)
        if page == 0:  # the middle of a quarter of the project
            page = max(size // 4 // 200, 1)
        calls: list[float] = []
        answer: dict[str, Any] = {}
        for _ in range(runs + 1):
            started = time.perf_counter()
            answer = dm.list_tasks(
                session, compiled=compiled, page=page, size=100, full=False, user_id=1
            )
            calls.append((time.perf_counter() - started) * 1000)
            session.rollback()
        later = sorted(calls[1:])
        plan = _page_plan(session, compiled, page=page)
        timings[name] = {
            "page": page,
            "first_ms": round(calls[0], 1),
            "median_ms": round(statistics.median(later), 1),
            "p95_ms": round(later[max(math.ceil(len(later) * 0.95) - 1, 0)], 1),
            "total": answer["total"],
            "rows": len(answer["tasks"]),
            "page_query_plan": plan,
        }
        log(f"{name}: {timings[name]}")
    return timings


def run_size(server: str, size: int, runs: int) -> dict[str, Any]:
    name = f"agreement-{size}"
    with scratch_databases(server, [name]) as urls:
        upgrade_to_head(
            script_location=Path(task_svc.__file__).parent / "migrations",
            database_url=urls[name],
            service_name="task-svc",
        )
        engine = create_engine(urls[name])
        project = ProjectInfo(
            id=PROJECT,
            organization_id=1,
            label_config=LABEL_CONFIG,
            maximum_annotations=2,
            agreement_threshold=0.5,
            config=parse_label_config(LABEL_CONFIG),
        )
        try:
            with Session(engine) as session:
                figures = seed(session, project=project, size=size)
                log(f"{size:,} tasks seeded: {figures}")
                queries = time_queries(session, size=size, runs=runs)
        finally:
            engine.dispose()
    return {"size": size, "seed": figures, "queries": queries}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.agreement", description=__doc__)
    parser.add_argument("--sizes", default="100000", help="task counts, comma-separated")
    parser.add_argument("--runs", type=int, default=20, help="timed calls after the first")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    results = []
    with postgres_server() as server:
        for size in sizes:
            results.append(run_size(server, size, args.runs))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = RESULTS / f"agreement-{stamp}.json"
    target.write_text(json.dumps(results, indent=2))
    for result in results:
        seed_figures = result["seed"]
        print(f"\n== {result['size']:,} tasks, overlap 2, {2 * result['size']:,} annotations ==")
        print(
            f"import {seed_figures['import_s']:.1f} s, annotations seeded "
            f"{seed_figures['seed_annotations_s']:.1f} s, agreement computed (refresh_project) "
            f"{seed_figures['refresh_project_s']:.1f} s "
            f"({seed_figures['refresh_project_tasks_per_s']:,.0f} tasks/s)"
        )
        print(f"{'query (list_tasks, 100 rows)':34} {'page':>6} {'first ms':>9} "
              f"{'median ms':>10} {'p95 ms':>8} {'total':>9}")  # fmt: skip
        for name, row in result["queries"].items():
            print(f"{name:34} {row['page']:>6} {row['first_ms']:>9} {row['median_ms']:>10} "
                  f"{row['p95_ms']:>8} {row['total']:>9}")  # fmt: skip
    print(f"\n{target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

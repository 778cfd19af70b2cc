"""How fast can any import of the bench's tasks be on this machine? PostgreSQL's own share.

`python -m bench.copy_floor [--size N] [--runs R] [--ls-seconds S]` (or `make bench-floor`):

1. imports the N bench tasks with task-svc's own bulk path (`imports.writer.write_tasks`,
   the one REST imports and jobs run) into a fresh, migrated task-svc database and prints
   its wall time and the CPU seconds of the PostgreSQL backend and of this process;
2. dumps those rows as COPY text and loads them again with nothing but `COPY ... FROM
   STDIN` into a copy of `tasks` with all of its indexes, and into one with only its
   primary key, printing the backend's CPU seconds for each;
3. drops every index of `tasks` but its primary key and runs 1. again.

The second figure is what PostgreSQL spends whatever the client does. With
`--ls-seconds` (Label Studio's import time for the same file, from `make bench LS=1`) it
also prints the time a 20x-faster import would have, end to end. Nothing here asserts.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import task_svc
from labelops_common.directory import ProjectInfo
from labelops_common.labelconfig.parser import parse_label_config
from labelops_common.migrations import upgrade_to_head
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from task_svc.imports import formats
from task_svc.imports.writer import write_tasks
from task_svc.tasks.models import Task

from bench.dataset import tasks_file
from bench.infra import log, postgres_server, process_cpu_seconds, scratch_databases
from bench.targets import LABEL_CONFIG

CACHE = Path(__file__).parent / ".cache"
#: Every column of `tasks`, as `imports.writer` COPYs them.
COLUMNS = ", ".join(column.name for column in Task.__table__.columns)
#: Table copies COPY loads into: `LIKE tasks` with these options.
TABLES = {
    "tasks with all its indexes": "INCLUDING ALL",
    "tasks with its primary key only": "INCLUDING DEFAULTS",
}


def backend_pid(connection: Connection) -> int:
    """The connection's PostgreSQL backend: the server is local, its CPU is in /proc."""
    return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def import_once(engine: Engine, path: Path) -> dict[str, float]:
    """The bench file through `write_tasks` into project 1, committed."""
    project = ProjectInfo(id=1, organization_id=1, config=parse_label_config(LABEL_CONFIG))
    with Session(engine) as session, path.open("rb") as body:
        backend = backend_pid(session.connection())
        cpu_before, process_before = process_cpu_seconds(backend), time.process_time()
        started = time.perf_counter()
        written = write_tasks(
            session, project=project, items=formats.iter_json_tasks(body), user_id=1
        )
        session.commit()
        return {
            "tasks": written.task_count,
            "seconds": time.perf_counter() - started,
            "postgres_cpu_s": process_cpu_seconds(backend) - cpu_before,
            "python_cpu_s": time.process_time() - process_before,
        }


def empty_tasks(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE tasks, project_counters CASCADE"))


def drop_secondary_indexes(engine: Engine) -> None:
    """Leave `tasks` with its primary key alone: what no list could do without."""
    with engine.begin() as connection:
        names = connection.execute(
            text(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'tasks'"
                " AND indexname <> 'pk_tasks'"
            )
        ).scalars()
        for name in list(names):
            connection.execute(text(f'DROP INDEX "{name}"'))


def dump_rows(engine: Engine, target: Path) -> None:
    raw = engine.raw_connection()
    try:
        with target.open("w", encoding="utf-8") as out:
            raw.cursor().copy_expert(f"COPY (SELECT {COLUMNS} FROM tasks) TO STDOUT", out)  # noqa: S608
    finally:
        raw.close()


def copy_once(engine: Engine, rows: Path, like: str) -> dict[str, float]:
    """COPY the dumped rows into a fresh `LIKE tasks` table; backend CPU and wall time."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("DROP TABLE IF EXISTS copy_floor"))
        connection.execute(text(f"CREATE TABLE copy_floor (LIKE tasks {like})"))
        if "ALL" not in like:
            connection.execute(text("ALTER TABLE copy_floor ADD PRIMARY KEY (id)"))
        backend = backend_pid(connection)
        cpu_before = process_cpu_seconds(backend)
        started = time.perf_counter()
        with rows.open("r", encoding="utf-8") as source:
            connection.connection.cursor().copy_expert(
                f"COPY copy_floor ({COLUMNS}) FROM STDIN", source, size=1 << 20
            )
        seconds = time.perf_counter() - started
        cpu = process_cpu_seconds(backend) - cpu_before
        connection.execute(text("DROP TABLE copy_floor"))
    return {"seconds": seconds, "postgres_cpu_s": cpu}


def import_runs(engine: Engine, path: Path, *, runs: int, label: str) -> list[dict[str, float]]:
    """`runs` imports of the bench file, each into an emptied `tasks` (the last one stays)."""
    figures = []
    for run in range(runs):
        empty_tasks(engine)
        figures.append(import_once(engine, path))
        log(f"{label} run {run + 1}: {figures[-1]}")
    return figures


def _median(runs: list[dict[str, float]], key: str) -> str:
    values = [run[key] for run in runs]
    return f"{statistics.median(values):.2f} (runs: {', '.join(f'{v:.2f}' for v in values)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.copy_floor", description=__doc__)
    parser.add_argument("--size", type=int, default=100_000, help="tasks (default 100000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement")
    parser.add_argument("--ls-seconds", type=float, default=None, help="Label Studio's import s")
    args = parser.parse_args(argv)
    path = tasks_file(CACHE, args.size)
    copies: dict[str, list[dict[str, float]]] = {name: [] for name in TABLES}
    with postgres_server() as server, scratch_databases(server, ["copy-floor"]) as urls:
        upgrade_to_head(
            script_location=Path(task_svc.__file__).parent / "migrations",
            database_url=urls["copy-floor"],
            service_name="task-svc",
        )
        engine = create_engine(urls["copy-floor"])
        try:
            imports = import_runs(engine, path, runs=args.runs, label="write_tasks")
            with tempfile.TemporaryDirectory() as scratch:
                rows = Path(scratch, "tasks.copy")
                dump_rows(engine, rows)
                for name, like in TABLES.items():
                    copies[name] = [copy_once(engine, rows, like) for _ in range(args.runs)]
                    log(f"COPY into {name}: {copies[name]}")
            drop_secondary_indexes(engine)
            bare = import_runs(
                engine, path, runs=args.runs, label="write_tasks without secondary indexes"
            )
        finally:
            engine.dispose()
    print(f"\n== {args.size:,} bench tasks, PostgreSQL (median of {args.runs}) ==")
    print(f"write_tasks, wall s:                     {_median(imports, 'seconds')}")
    print(f"write_tasks, PostgreSQL backend CPU s:   {_median(imports, 'postgres_cpu_s')}")
    print(f"write_tasks, Python CPU s:               {_median(imports, 'python_cpu_s')}")
    for name in TABLES:
        print(f"COPY alone into {name}: backend CPU s {_median(copies[name], 'postgres_cpu_s')}")
    print(f"write_tasks into tasks with its primary key only, wall s: {_median(bare, 'seconds')}")
    if args.ls_seconds:
        print(f"a 20x-faster import than Label Studio's {args.ls_seconds:.1f} s: "
              f"{args.ls_seconds / 20:.2f} s end to end")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

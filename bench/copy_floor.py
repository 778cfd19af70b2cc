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
from typing import Any

import task_svc
from labelops_common.directory import ProjectInfo
from labelops_common.labelconfig.parser import parse_label_config
from labelops_common.migrations import upgrade_to_head
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from task_svc.imports import formats
from task_svc.imports.writer import write_tasks

from bench.dataset import tasks_file
from bench.infra import log, postgres_server, scratch_databases
from bench.targets import LABEL_CONFIG

CACHE = Path(__file__).parent / ".cache"
#: The COPY columns of `imports.writer` (every column of `tasks`).
COLUMNS = (
    "id, project_id, inner_id, data, meta, created_at, updated_at, updated_by_id, is_labeled,"
    " overlap, total_annotations, cancelled_annotations, total_predictions, completed_at,"
    " predictions_score, file_upload_id, source_key"
)
#: Table copies COPY loads into: `LIKE tasks` with these options.
TABLES = {
    "tasks with all its indexes": "INCLUDING ALL",
    "tasks with its primary key only": "INCLUDING DEFAULTS",
}


def backend_pid(connection: Connection) -> int:
    return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (the server is local: its backends are in /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


def import_once(url: str, path: Path) -> dict[str, float]:
    """The bench file through `write_tasks` into project 1, committed; then emptied again."""
    engine = create_engine(url)
    project = ProjectInfo(id=1, organization_id=1, config=parse_label_config(LABEL_CONFIG))
    try:
        with Session(engine) as session, path.open("rb") as body:
            backend = backend_pid(session.connection())
            cpu_before, process_before = cpu_seconds(backend), time.process_time()
            started = time.perf_counter()
            written = write_tasks(
                session, project=project, items=formats.iter_json_tasks(body), user_id=1
            )
            session.commit()
            seconds = time.perf_counter() - started
            figures = {
                "tasks": written.task_count,
                "seconds": seconds,
                "postgres_cpu_s": cpu_seconds(backend) - cpu_before,
                "python_cpu_s": time.process_time() - process_before,
            }
        return figures
    finally:
        engine.dispose()


def empty_tasks(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("TRUNCATE tasks, project_counters CASCADE"))
    finally:
        engine.dispose()


def drop_secondary_indexes(url: str) -> None:
    """Leave `tasks` with its primary key alone: what no list could do without."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            names = connection.execute(
                text(
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'tasks'"
                    " AND indexname <> 'pk_tasks'"
                )
            ).scalars()
            for name in list(names):
                connection.execute(text(f'DROP INDEX "{name}"'))
    finally:
        engine.dispose()


def dump_rows(url: str, target: Path) -> None:
    engine = create_engine(url)
    try:
        raw = engine.raw_connection()
        try:
            with target.open("w", encoding="utf-8") as out:
                raw.cursor().copy_expert(f"COPY (SELECT {COLUMNS} FROM tasks) TO STDOUT", out)  # noqa: S608
        finally:
            raw.close()
    finally:
        engine.dispose()


def copy_once(url: str, rows: Path, like: str) -> dict[str, float]:
    """COPY the dumped rows into a fresh `LIKE tasks` table; backend CPU and wall time."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("DROP TABLE IF EXISTS copy_floor"))
            connection.execute(text(f"CREATE TABLE copy_floor (LIKE tasks {like})"))
            if "ALL" not in like:
                connection.execute(text("ALTER TABLE copy_floor ADD PRIMARY KEY (id)"))
            cursor = connection.connection.cursor()
            backend = backend_pid(connection)
            cpu_before = cpu_seconds(backend)
            started = time.perf_counter()
            with rows.open("r", encoding="utf-8") as source:
                cursor.copy_expert(f"COPY copy_floor ({COLUMNS}) FROM STDIN", source, size=1 << 20)
            seconds = time.perf_counter() - started
            cpu = cpu_seconds(backend) - cpu_before
            connection.execute(text("DROP TABLE copy_floor"))
        return {"seconds": seconds, "postgres_cpu_s": cpu}
    finally:
        engine.dispose()


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
    imports: list[dict[str, Any]] = []
    bare: list[dict[str, Any]] = []
    copies: dict[str, list[dict[str, float]]] = {name: [] for name in TABLES}
    with postgres_server() as server, scratch_databases(server, ["copy-floor"]) as urls:
        url = urls["copy-floor"]
        upgrade_to_head(
            script_location=Path(task_svc.__file__).parent / "migrations",
            database_url=url,
            service_name="task-svc",
        )
        for run in range(args.runs):
            imports.append(import_once(url, path))
            log(f"write_tasks run {run + 1}: {imports[-1]}")
            if run + 1 < args.runs:
                empty_tasks(url)
        with tempfile.TemporaryDirectory() as scratch:
            rows = Path(scratch, "tasks.copy")
            dump_rows(url, rows)
            for name, like in TABLES.items():
                for _ in range(args.runs):
                    copies[name].append(copy_once(url, rows, like))
                log(f"COPY into {name}: {copies[name]}")
        drop_secondary_indexes(url)
        for run in range(args.runs):
            empty_tasks(url)
            bare.append(import_once(url, path))
            log(f"write_tasks without secondary indexes, run {run + 1}: {bare[-1]}")
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

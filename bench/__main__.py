"""`uv run python -m bench`: start the servers, run the workloads, print and save the figures.

Every option is a flag or the environment variable of the same name (flags win):
    SIZES=10000,100000,1000000   tasks per run on PostgreSQL (scripts/testinfra.sh, Redis broker)
    EMBEDDED_SIZES=100000        tasks per run of `make run` itself (its embedded PostgreSQL)
    LS=1                         also run Label Studio (bench/.ls-venv, installed on first use)
    LS_SIZES=10000,100000        Label Studio sizes on PostgreSQL
    LS_SQLITE_SIZES=100000       Label Studio sizes on SQLite (its default), beside EMBEDDED_SIZES
    LS_FROM=bench/results/X.json Label Studio's figures from an earlier run instead of running it
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench import assignments, dataset, report, targets, workloads
from bench.infra import ROOT, Server, log, postgres_server

BENCH_DIR = ROOT / "bench"
WORKLOADS = ("import", "list", "annotations", "list-labelling", "next", "assign")


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--sizes", default=_env("SIZES", "10000,100000,1000000"), help="PostgreSQL sizes")
    add(
        "--embedded-sizes",
        default=_env("EMBEDDED_SIZES", "100000"),
        help="sizes on `make run`'s embedded PostgreSQL ('' = none)",
    )
    add("--ls", default=_env("LS", "0"), help="1 = also benchmark Label Studio")
    add("--ls-sizes", default=_env("LS_SIZES", "10000,100000"))
    add("--ls-sqlite-sizes", default=_env("LS_SQLITE_SIZES", "100000"))
    add("--ls-version", default=_env("LS_VERSION", "1.23.2"), help="pinned on first install")
    add(
        "--ls-from",
        default=_env("LS_FROM", ""),
        help="reuse Label Studio figures from a results file",
    )
    add("--workloads", default=_env("WORKLOADS", ",".join(WORKLOADS)))
    add("--runs", type=int, default=int(_env("RUNS", "20")), help="repetitions per list query")
    add("--next-runs", type=int, default=int(_env("NEXT_RUNS", "20")))
    add("--annotations", type=int, default=int(_env("ANNOTATIONS", "2000")))
    add("--clients", type=int, default=int(_env("CLIENTS", "8")))
    add(
        "--processes",
        type=int,
        default=int(_env("PROCESSES", str(os.cpu_count() or 1))),
        help="LabelOps server processes (serve --processes; `make run`: one per core)",
    )
    add("--import-timeout", type=float, default=float(_env("IMPORT_TIMEOUT", "3600")))
    add("--keep", default=_env("KEEP", "0"), help="1 = keep the servers' data dirs and logs")
    args = parser.parse_args(argv)
    args.sizes = _sizes(args.sizes)
    args.embedded_sizes = _sizes(args.embedded_sizes)
    args.ls_sizes = _sizes(args.ls_sizes)
    args.ls_sqlite_sizes = _sizes(args.ls_sqlite_sizes)
    args.ls = args.ls.lower() in ("1", "true", "yes", "on")
    args.keep = args.keep.lower() in ("1", "true", "yes", "on")
    args.workloads = [w for w in args.workloads.split(",") if w]
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; choose from {WORKLOADS}")
    return args


def _sigterm_as_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _plan(args: argparse.Namespace) -> list[tuple[str, str, int]]:
    """(target, backend, size), smallest first so the quick figures come early."""
    plan = [("labelops", "postgresql", n) for n in args.sizes]
    plan += [("labelops", "embedded", n) for n in args.embedded_sizes]
    if args.ls:
        plan += [("label-studio", "postgresql", n) for n in args.ls_sizes]
        plan += [("label-studio", "sqlite", n) for n in args.ls_sqlite_sizes]
    order = {"labelops": 0, "label-studio": 1}
    return sorted(plan, key=lambda p: (p[2], p[1] != "postgresql", order[p[0]]))


def _guarded(
    run: dict[str, Any], workload: str, body: Callable[[], dict[str, Any]]
) -> dict[str, Any] | None:
    """Runs a workload; a failure is recorded (and printed), not raised."""
    started = time.monotonic()
    try:
        figures = body()
    except KeyboardInterrupt:
        raise
    except Exception as error:
        message = f"{type(error).__name__}: {error}"
        run["errors"][workload] = message[:2000]
        log(f"{workload} FAILED after {time.monotonic() - started:.1f}s: {message[:800]}")
        return None
    run[workload] = figures
    log(f"{workload} done in {time.monotonic() - started:.1f}s: {_brief(figures)}")
    return figures


def _brief(figures: dict[str, Any]) -> str:
    text = json.dumps(figures, default=str)
    return text if len(text) < 400 else text[:400] + "..."


def bench_one(
    args: argparse.Namespace, server: Server, target: str, backend: str, size: int
) -> dict[str, Any]:
    run: dict[str, Any] = {
        "target": target,
        "backend": backend,
        "size": size,
        "errors": {},
        "skipped": {},
    }
    api = targets.Api(server.base_url)
    project_id = api.create_project(f"bench {size}")
    run["project_id"] = project_id
    tasks_path = dataset.tasks_file(BENCH_DIR / ".cache", size)

    if "import" in args.workloads:
        log(f"{target}/{backend}/{size}: importing {tasks_path.stat().st_size / 1e6:.0f} MB")
        imported = _guarded(
            run,
            "import",
            lambda: workloads.run_import(
                api, server, project_id, tasks_path, expected=size, timeout=args.import_timeout
            ),
        )
        if imported is None or imported["tasks_in_project"] < size:
            reason = "the import did not leave the tasks in the project"
            for workload in WORKLOADS[1:]:
                if workload in args.workloads:
                    run["skipped"][workload] = reason
            return run
    else:
        run["skipped"]["import"] = "not selected; the remaining workloads need tasks"
        return run

    if "list" in args.workloads:
        _guarded(run, "list", lambda: workloads.run_list(api, project_id, runs=args.runs))
    annotated = min(args.annotations, size // 2) if "annotations" in args.workloads else 0
    if "annotations" in args.workloads:

        def annotate() -> dict[str, Any]:
            task_ids = api.first_task_ids(project_id, annotated)
            if len(task_ids) < annotated:
                raise RuntimeError(f"found {len(task_ids)} task ids, wanted {annotated}")
            return workloads.run_annotations(api, server, task_ids, clients=args.clients)

        _guarded(run, "annotations", annotate)
    if "list-labelling" in args.workloads:
        wanted = args.runs * 2 * len(workloads.LIST_QUERIES)

        def list_while_labelling() -> dict[str, Any]:
            # Past the tasks workload 3 annotated, so every write adds a first annotation.
            task_ids = api.first_task_ids(project_id, annotated + wanted)[annotated:]
            return workloads.run_list_while_labelling(api, project_id, task_ids, runs=args.runs)

        _guarded(run, "list-labelling", list_while_labelling)
    if "next" in args.workloads:
        _guarded(run, "next", lambda: workloads.run_next(api, project_id, runs=args.next_runs))
    if "assign" in args.workloads and target == "labelops":
        # Last: it turns the project to assigned_only, which would change the others.
        _guarded(
            run,
            "assign",
            lambda: assignments.run_assign(
                api, project_id, runs=args.runs, next_runs=args.next_runs
            ),
        )
    return run


def _time_restart(run: dict[str, Any], first: Server, work_dir: Path, *, processes: int) -> None:
    """`first_start_s` (empty data dir) and `restart_s` (the same data dir, after the workloads
    and a SIGTERM): from launching `labelops serve` until `GET /api/version` answers 200."""
    run["startup"] = {"first_start_s": first.up_seconds}
    log(f"first start: {first.up_seconds:.2f}s; restarting on the same data dir")
    try:
        with targets.labelops(
            backend="embedded",
            postgres_url=None,
            work_dir=work_dir,
            processes=processes,
            log_name="labelops-restart.log",
        ) as again:
            run["startup"]["restart_s"] = again.up_seconds
            if "project_id" in run:
                tasks = targets.Api(again.base_url).task_total(run["project_id"])
                run["startup"]["tasks_after_restart"] = tasks
    except KeyboardInterrupt:
        raise
    except Exception as error:
        run["errors"]["restart"] = f"{type(error).__name__}: {str(error)[:2000]}"
        log(f"restart FAILED: {run['errors']['restart'][:800]}")
        return
    log(f"start-up: {_brief(run['startup'])}")


def _start(
    target: str,
    backend: str,
    postgres_url: str | None,
    work_dir: Path,
    ls_executable: Path | None,
    *,
    processes: int,
) -> AbstractContextManager[Server]:
    if target == "labelops":
        return targets.labelops(
            backend=backend,
            postgres_url=postgres_url,
            work_dir=work_dir,
            processes=processes,
        )
    assert ls_executable is not None
    return targets.label_studio(
        backend=backend, postgres_url=postgres_url, work_dir=work_dir, executable=ls_executable
    )


@contextmanager
def _work_root(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="labelops-bench-"))
    # Started as root, the embedded PostgreSQL runs as `labelops-postgres`, which must be able
    # to traverse the data dir's parents (mkdtemp makes 0700).
    path.chmod(0o755)
    try:
        yield path
    finally:
        if keep:
            log(f"kept data dirs and logs in {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def _git_revision() -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    found = subprocess.run(  # noqa: S603
        [git, "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(  # noqa: S603
        [git, "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    )
    revision = found.stdout.strip()
    return f"{revision}{'+dirty' if dirty.stdout.strip() else ''}" if revision else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Ctrl-C and SIGTERM both unwind through the `with` blocks that stop the servers (SIGINT
    # explicitly: a shell starting us in the background may have left it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results_path = BENCH_DIR / "results" / f"{stamp}.json"
    plan = _plan(args)
    log("plan: " + ", ".join(f"{t}/{b}/{n:,}" for t, b, n in plan))
    meta: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(sys.argv),
        "options": {k: v for k, v in vars(args).items()},
        "labelops_revision": _git_revision(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "notes": {
            "import": "one POST of a JSON list streamed from disk; an asynchronous answer is "
            "polled every 0.1 s until completed; RSS = the server process tree (LabelOps: without the "
            "`uv run` launcher), sampled every 0.1 s",
            "label_studio_server": "`label-studio start` (Django runserver, threaded), as shipped",
            "embedded": "LabelOps as `make run` serves it: no database URL, no broker, its "
            "embedded PostgreSQL under LABELOPS_DATA_DIR (a child of the server, so in its process "
            "tree's RSS and CPU, as SQLite is in Label Studio's); startup.first_start_s on an "
            "empty data dir and startup.restart_s on the same data dir after the workloads, each "
            "until GET /api/version answers 200",
        },
    }
    runs: list[dict[str, Any]] = []
    if args.ls_from:
        earlier = json.loads(Path(args.ls_from).read_text())
        reused = [run for run in earlier["runs"] if run["target"] == "label-studio"]
        for run in reused:
            run["reused_from"] = args.ls_from
        runs.extend(reused)
        meta["label_studio_version"] = earlier["meta"].get("label_studio_version")
        meta["label_studio_figures_from"] = args.ls_from
        log(f"Label Studio figures from {args.ls_from}: {len(reused)} runs")
    interrupted = False
    with ExitStack() as stack:
        try:
            ls_executable = None
            if args.ls:
                ls_executable = targets.ensure_label_studio(args.ls_version)
                meta["label_studio_version"] = targets.label_studio_version()
            postgres_url = None
            if any(backend == "postgresql" for _, backend, _ in plan):
                postgres_url = stack.enter_context(postgres_server())
            work_root = stack.enter_context(_work_root(args.keep))
            for target, backend, size in plan:
                work_dir = work_root / f"{target}-{backend}-{size}"
                work_dir.mkdir()
                log(f"--- {target} on {backend}, {size:,} tasks ---")
                try:
                    server_context = _start(
                        target,
                        backend,
                        postgres_url,
                        work_dir,
                        ls_executable,
                        processes=args.processes,
                    )
                    with server_context as server:
                        run = bench_one(args, server, target, backend, size)
                    if target == "labelops" and backend == "embedded":
                        _time_restart(run, server, work_dir, processes=args.processes)
                except KeyboardInterrupt:
                    raise
                except Exception as error:
                    traceback.print_exc()
                    run = {
                        "target": target,
                        "backend": backend,
                        "size": size,
                        "errors": {"server": f"{type(error).__name__}: {str(error)[:2000]}"},
                        "skipped": {},
                    }
                runs.append(run)
                _save(results_path, meta, runs)
        except KeyboardInterrupt:
            interrupted = True
            log("interrupted; stopping what this run started")
    meta["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    meta["interrupted"] = interrupted
    _save(results_path, meta, runs)
    print(report.render(runs))
    print(f"\nfigures: {results_path.relative_to(ROOT)}")
    return 130 if interrupted else 0


def _save(path: Path, meta: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"meta": meta, "runs": runs}, indent=2, default=str) + "\n")
    partial.replace(path)


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())

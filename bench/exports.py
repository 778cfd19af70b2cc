"""`uv run python -m bench.exports`: export annotated tasks from LabelOps (and Label Studio).

Every option is a flag or the environment variable of the same name (flags win):
    SIZES=100000,1000000         annotated tasks per LabelOps run (PostgreSQL, Redis broker)
    FORMATS=JSON,CSV,COCO,PARQUET  formats exported per size; one not offered is skipped
    LS=1                         also Label Studio, on PostgreSQL, side by side
    LS_SIZES=100000              Label Studio sizes
    LS_FORMATS=JSON,CSV          Label Studio formats
    LS_FROM=bench/results/exports-X.json  Label Studio's figures from an earlier run
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import dataset, targets
from bench.__main__ import _git_revision, _save, _sigterm_as_interrupt
from bench.infra import (
    ROOT,
    Server,
    log,
    postgres_server,
    process_tree,
    status_kb,
    tree_cpu_seconds,
)

BENCH_DIR = ROOT / "bench"

#: Image boxes: JSON, CSV, COCO, YOLO and Parquet all fit it.
BOX_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Cat"/><Label value="Dog"/><Label value="Bird"/>
  </RectangleLabels>
</View>"""

#: Targets of issue 18 (this machine): Label Studio / LabelOps for 100k JSON, and 1M JSON.
TARGET_RATIO_100K_JSON = 20.0
TARGET_1M_JSON_SECONDS = 60.0
TARGET_1M_JSON_RSS_MB = 300.0
#: Tasks per import request: both servers refuse a body over 250 MB (~0.6 KB a task here).
IMPORT_PART_TASKS = 250_000


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in _list(text)]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.exports", description=__doc__)
    add = parser.add_argument
    add("--sizes", default=_env("SIZES", "100000,1000000"))
    add("--formats", default=_env("FORMATS", "JSON,CSV,COCO,PARQUET"))
    add("--ls", default=_env("LS", "0"), help="1 = also export from Label Studio")
    add("--ls-sizes", default=_env("LS_SIZES", "100000"))
    add("--ls-formats", default=_env("LS_FORMATS", "JSON,CSV"))
    add("--ls-version", default=_env("LS_VERSION", "1.23.2"), help="pinned on first install")
    add("--ls-from", default=_env("LS_FROM", ""), help="reuse Label Studio figures from a file")
    add(
        "--processes",
        type=int,
        default=int(_env("PROCESSES", "1")),
        help="LabelOps server processes (1: the export runs in one process, measured alone)",
    )
    add(
        "--export-process",
        default=_env("EXPORT_PROCESS", "suite"),
        choices=("suite", "own"),
        help="suite: export from the all-in-one server; own: from `serve --target export-svc` "
        "beside it (the export process of a deployment, measured alone)",
    )
    add("--import-timeout", type=float, default=float(_env("IMPORT_TIMEOUT", "3600")))
    add("--export-timeout", type=float, default=float(_env("EXPORT_TIMEOUT", "3600")))
    add("--keep", default=_env("KEEP", "0"), help="1 = keep the servers' data dirs and logs")
    args = parser.parse_args(argv)
    args.sizes = _sizes(args.sizes)
    args.ls_sizes = _sizes(args.ls_sizes)
    args.formats = [name.upper() for name in _list(args.formats)]
    args.ls_formats = [name.upper() for name in _list(args.ls_formats)]
    args.ls = args.ls.lower() in ("1", "true", "yes", "on")
    args.keep = args.keep.lower() in ("1", "true", "yes", "on")
    return args


# --------------------------------------------------------------------------------------------
# Memory of each process


@dataclass
class ProcessPeaks:
    """Samples every process of a tree every `interval` s: the peak of each one (the export
    process is the one that peaks highest) and of their sum."""

    root: int
    skip_root: bool = False
    interval: float = 0.05
    peak_by_pid: dict[int, float] = field(default_factory=dict)
    peak_tree_mb: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _sample(self) -> float:
        pids = process_tree(self.root)
        total = 0.0
        for pid in pids[1:] if self.skip_root else pids:
            mb = status_kb(pid, "VmRSS") / 1024
            total += mb
            self.peak_by_pid[pid] = max(self.peak_by_pid.get(pid, 0.0), mb)
        self.peak_tree_mb = max(self.peak_tree_mb, total)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> ProcessPeaks:
        self.before_mb = self._sample()
        self._thread = threading.Thread(target=self._run, name="rss-peaks", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._sample()

    @property
    def peak_process_mb(self) -> float:
        return max(self.peak_by_pid.values(), default=0.0)


# --------------------------------------------------------------------------------------------
# Workloads


def create_project(api: targets.Api, title: str) -> int:
    with api.client() as http:
        answer = http.post("/api/projects", json={"title": title, "label_config": BOX_CONFIG})
        if answer.status_code != 201:
            raise RuntimeError(f"create project: HTTP {answer.status_code}: {answer.text[:500]}")
        return int(answer.json()["id"])


def offered_formats(api: targets.Api, project_id: int) -> dict[str, bool]:
    """Format name → enabled, as `/export/formats` lists them."""
    with api.client() as http:
        answer = http.get(f"/api/projects/{project_id}/export/formats")
        answer.raise_for_status()
    found: dict[str, bool] = {}
    for entry in answer.json():
        if isinstance(entry, dict):
            found[str(entry["name"])] = not entry.get("disabled", False)
        else:  # older servers answer bare names
            found[str(entry)] = True
    return found


def run_export(
    api: targets.Api, server: Server, project_id: int, export_type: str, *, timeout: float
) -> dict[str, Any]:
    """`GET /api/projects/{id}/export?exportType=…` read to the last byte (Label Studio's easy
    export; both servers stream or build it in the request): seconds to the first and the last
    byte, size, the server's peak RSS (the highest single process, and the tree) and CPU."""
    cpu_before = tree_cpu_seconds(server.process.pid, skip_root=server.skip_root_rss)
    with (
        ProcessPeaks(root=server.process.pid, skip_root=server.skip_root_rss) as peaks,
        api.client(timeout=timeout) as http,
    ):
        started = time.monotonic()
        first_byte: float | None = None
        size = 0
        lines = 0
        with http.stream(
            "GET", f"/api/projects/{project_id}/export", params={"exportType": export_type}
        ) as answer:
            if answer.status_code != 200:
                answer.read()
                raise RuntimeError(f"HTTP {answer.status_code}: {answer.text[:500]}")
            for chunk in answer.iter_bytes(1 << 20):
                if first_byte is None:
                    first_byte = time.monotonic() - started
                size += len(chunk)
                lines += chunk.count(b"\n")
        seconds = time.monotonic() - started
    cpu = tree_cpu_seconds(server.process.pid, skip_root=server.skip_root_rss) - cpu_before
    return {
        "seconds": round(seconds, 2),
        "first_byte_s": round(first_byte or seconds, 2),
        "mb": round(size / 1e6, 1),
        "lines": lines,
        "peak_process_rss_mb": round(peaks.peak_process_mb, 1),
        "peak_tree_rss_mb": round(peaks.peak_tree_mb, 1),
        "rss_before_mb": round(peaks.before_mb, 1),
        "server_cpu_s": round(cpu, 1),
    }


def bench_one(
    args: argparse.Namespace,
    server: Server,
    target: str,
    size: int,
    formats: list[str],
    *,
    work_dir: Path,
) -> dict[str, Any]:
    run: dict[str, Any] = {
        "target": target,
        "size": size,
        "exports": {},
        "errors": {},
        "skipped": {},
    }
    api = targets.Api(server.base_url)
    project_id = create_project(api, f"export bench {size}")
    tasks_path = dataset.annotated_tasks_file(BENCH_DIR / ".cache", size)
    parts = (
        dataset.file_parts(tasks_path, IMPORT_PART_TASKS)
        if size > IMPORT_PART_TASKS
        else [tasks_path]
    )
    log(
        f"{target}/{size:,}: importing {tasks_path.stat().st_size / 1e6:.0f} MB of annotated "
        f"tasks in {len(parts)} request(s)"
    )
    started = time.monotonic()
    try:
        for part in parts:
            api.import_file(project_id, part, timeout=args.import_timeout)
    except Exception as error:
        run["errors"]["import"] = f"{type(error).__name__}: {str(error)[:2000]}"
        log(f"import FAILED: {run['errors']['import'][:800]}")
        return run
    run["import_seconds"] = round(time.monotonic() - started, 2)
    run["tasks_in_project"] = api.task_total(project_id)
    log(f"imported {run['tasks_in_project']:,} tasks in {run['import_seconds']:.1f}s")
    with ExitStack() as stack:
        if target == "labelops" and args.export_process == "own":
            server = stack.enter_context(
                targets.labelops_service(server, "export-svc", work_dir=work_dir)
            )
            run["export_process"] = "serve --target export-svc"
            api = targets.Api(server.base_url)
        _export_formats(args, api, server, run, target, size, project_id, formats)
    return run


def _export_formats(
    args: argparse.Namespace,
    api: targets.Api,
    server: Server,
    run: dict[str, Any],
    target: str,
    size: int,
    project_id: int,
    formats: list[str],
) -> None:
    offered = offered_formats(api, project_id)
    for export_type in formats:
        if not offered.get(export_type):
            reason = "not offered" if export_type not in offered else "disabled for this config"
            run["skipped"][export_type] = f"{export_type} is {reason} by this server"
            log(f"{export_type}: skipped ({run['skipped'][export_type]})")
            continue
        log(f"{target}/{size:,}: exporting {export_type}")
        try:
            figures = run_export(api, server, project_id, export_type, timeout=args.export_timeout)
        except KeyboardInterrupt:
            raise
        except Exception as error:
            run["errors"][export_type] = f"{type(error).__name__}: {str(error)[:2000]}"
            log(f"{export_type} FAILED: {run['errors'][export_type][:800]}")
            continue
        run["exports"][export_type] = figures
        log(f"{export_type}: {json.dumps(figures)}")


# --------------------------------------------------------------------------------------------
# The table


def _figure(runs: list[dict[str, Any]], target: str, size: int, fmt: str) -> dict[str, Any] | None:
    for run in runs:
        if run["target"] == target and run["size"] == size:
            found: dict[str, Any] | None = run["exports"].get(fmt)
            return found
    return None


def render(runs: list[dict[str, Any]]) -> str:
    rows = [
        "| tasks | format | LabelOps s (first byte) | MB | export process peak RSS MB "
        "| server CPU s | Label Studio s | LS peak RSS MB | LS / LabelOps |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    sizes = sorted({run["size"] for run in runs})
    formats: list[str] = []
    for run in runs:
        for name in [*run["exports"], *run["skipped"], *run["errors"]]:
            if name not in formats and name != "import":
                formats.append(name)
    for size in sizes:
        for fmt in formats:
            ours = _figure(runs, "labelops", size, fmt)
            theirs = _figure(runs, "label-studio", size, fmt)
            if ours is None and theirs is None:
                continue
            ratio = (
                f"{theirs['seconds'] / ours['seconds']:.1f}x"
                if ours and theirs and ours["seconds"]
                else "-"
            )
            rows.append(
                f"| {size:,} | {fmt} | "
                + (f"{ours['seconds']} ({ours['first_byte_s']})" if ours else "-")
                + f" | {ours['mb'] if ours else '-'}"
                + f" | {ours['peak_process_rss_mb'] if ours else '-'}"
                + f" | {ours['server_cpu_s'] if ours else '-'}"
                + f" | {theirs['seconds'] if theirs else '-'}"
                + f" | {theirs['peak_tree_rss_mb'] if theirs else '-'}"
                + f" | {ratio} |"
            )
    notes = []
    for run in runs:
        for name, reason in {**run["skipped"], **run["errors"]}.items():
            notes.append(f"- {run['target']} {run['size']:,} {name}: {reason[:300]}")
    verdicts = _verdicts(runs)
    return "\n".join([*rows, *(["", *notes] if notes else []), "", *verdicts])


def _verdicts(runs: list[dict[str, Any]]) -> list[str]:
    lines = []
    ours = _figure(runs, "labelops", 100_000, "JSON")
    theirs = _figure(runs, "label-studio", 100_000, "JSON")
    if ours and theirs:
        ratio = theirs["seconds"] / ours["seconds"]
        met = "met" if ratio >= TARGET_RATIO_100K_JSON else "MISSED"
        lines.append(
            f"target 100k JSON >= {TARGET_RATIO_100K_JSON:.0f}x Label Studio: {ratio:.1f}x ({met})"
        )
    million = _figure(runs, "labelops", 1_000_000, "JSON")
    if million:
        fast = million["seconds"] < TARGET_1M_JSON_SECONDS
        small = million["peak_process_rss_mb"] < TARGET_1M_JSON_RSS_MB
        lines.append(
            f"target 1M JSON < {TARGET_1M_JSON_SECONDS:.0f} s: {million['seconds']} s "
            f"({'met' if fast else 'MISSED'}); export process < {TARGET_1M_JSON_RSS_MB:.0f} MB: "
            f"{million['peak_process_rss_mb']} MB ({'met' if small else 'MISSED'})"
        )
    return lines


# --------------------------------------------------------------------------------------------
# Main


@contextmanager
def _work_root(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="labelops-export-bench-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        if keep:
            log(f"kept data dirs and logs in {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results_path = BENCH_DIR / "results" / f"exports-{stamp}.json"
    plan = [("labelops", size) for size in args.sizes]
    if args.ls:
        plan += [("label-studio", size) for size in args.ls_sizes]
    plan.sort(key=lambda item: (item[1], item[0] != "labelops"))
    log("plan: " + ", ".join(f"{target}/{size:,}" for target, size in plan))
    meta: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(sys.argv),
        "options": dict(vars(args)),
        "labelops_revision": _git_revision(),
        "machine": {"cpus": os.cpu_count(), "load_at_start": os.getloadavg()},
        "notes": {
            "export": "GET /api/projects/{id}/export?exportType=F of every (annotated) task, "
            "read to the last byte; RSS sampled every 0.05 s per process of the server tree "
            "(LabelOps without its `uv run` launcher): the export process is the one that "
            "peaked highest; PostgreSQL (external) is in neither figure",
        },
    }
    runs: list[dict[str, Any]] = []
    if args.ls_from:
        earlier = json.loads(Path(args.ls_from).read_text())
        runs.extend(run for run in earlier["runs"] if run["target"] == "label-studio")
        meta["label_studio_figures_from"] = args.ls_from
    interrupted = False
    with ExitStack() as stack:
        try:
            ls_executable = targets.ensure_label_studio(args.ls_version) if args.ls else None
            if args.ls:
                meta["label_studio_version"] = targets.label_studio_version()
            postgres_url = stack.enter_context(postgres_server())
            work_root = stack.enter_context(_work_root(args.keep))
            for target, size in plan:
                work_dir = work_root / f"{target}-{size}"
                work_dir.mkdir()
                log(f"--- {target}, {size:,} annotated tasks ---")
                try:
                    if target == "labelops":
                        context = targets.labelops(
                            backend="postgresql",
                            postgres_url=postgres_url,
                            work_dir=work_dir,
                            processes=args.processes,
                        )
                        formats = args.formats
                    else:
                        assert ls_executable is not None
                        context = targets.label_studio(
                            backend="postgresql",
                            postgres_url=postgres_url,
                            work_dir=work_dir,
                            executable=ls_executable,
                        )
                        formats = args.ls_formats
                    with context as server:
                        run = bench_one(args, server, target, size, formats, work_dir=work_dir)
                except KeyboardInterrupt:
                    raise
                except Exception as error:
                    traceback.print_exc()
                    run = {
                        "target": target,
                        "size": size,
                        "exports": {},
                        "errors": {"server": f"{type(error).__name__}: {str(error)[:2000]}"},
                        "skipped": {},
                    }
                run["load_after"] = os.getloadavg()
                runs.append(run)
                _save(results_path, meta, runs)
        except KeyboardInterrupt:
            interrupted = True
            log("interrupted; stopping what this run started")
    meta["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    meta["interrupted"] = interrupted
    _save(results_path, meta, runs)
    print(render(runs))
    print(f"\nfigures: {results_path.relative_to(ROOT)}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())

"""`uv run python -m bench.storage`: sync a moto S3 bucket into LabelOps (and Label Studio),
print the figures side by side and save them.

Every option is a flag or the environment variable of the same name (flags win):
    SIZES=20000,100000      objects in the bucket, one LabelOps run each
    LS=1                    also Label Studio (bench/.ls-venv, installed on first use)
    LS_SIZES=20000          Label Studio sizes
    LS_FROM=bench/results/storage-X.json   Label Studio's figures from an earlier run
    BACKEND=embedded        LabelOps as `make run` (embedded PostgreSQL and queue) beside Label
                            Studio on SQLite; `postgresql`: both on the test PostgreSQL
    RESYNC_ADD=100          objects added before the re-sync
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

from bench import targets
from bench.__main__ import _git_revision, _sigterm_as_interrupt, _work_root
from bench.infra import ROOT, Server, log, postgres_server
from bench.storage import report, workloads
from bench.storage.bucket import filled_bucket

RESULTS = ROOT / "bench" / "results"
WORKLOADS = ("first", "resync")
#: What each target needs to reach an endpoint on loopback (moto): the outbound address
#: policy of LabelOps, Label Studio's SSRF protection.
LABELOPS_ENV = {"LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true"}
LABEL_STUDIO_ENV = {"SSRF_PROTECTION_ENABLED": "false"}


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m bench.storage", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add = parser.add_argument
    add("--sizes", default=env("SIZES", "20000,100000"), help="LabelOps bucket sizes")
    add("--ls", default=env("LS", "0"), help="1 = also Label Studio")
    add("--ls-sizes", default=env("LS_SIZES", "20000"))
    add("--ls-version", default=env("LS_VERSION", "1.23.2"), help="pinned on first install")
    add(
        "--ls-from",
        default=env("LS_FROM", ""),
        help="a results file: show its Label Studio figures instead of running Label Studio",
    )
    add("--backend", default=env("BACKEND", "embedded"), choices=("embedded", "postgresql"))
    add("--resync-add", type=int, default=int(env("RESYNC_ADD", "100")))
    add(
        "--moto-indexed-listing",
        default=env("MOTO_INDEXED_LISTING", "1"),
        help="1 = moto lists a page from a sorted index (bench/storage/moto_server.py)",
    )
    add("--workloads", default=env("WORKLOADS", ",".join(WORKLOADS)))
    add("--sync-timeout", type=float, default=float(env("SYNC_TIMEOUT", "3600")))
    add(
        "--processes",
        type=int,
        default=int(env("PROCESSES", str(os.cpu_count() or 1))),
        help="LabelOps server processes (serve --processes; `make run`: one per core)",
    )
    add("--keep", default=env("KEEP", "0"), help="1 = keep the servers' data dirs and logs")
    args = parser.parse_args(argv)
    args.sizes = _sizes(args.sizes)
    args.ls_sizes = _sizes(args.ls_sizes)
    args.ls = args.ls.lower() in ("1", "true", "yes", "on")
    args.keep = args.keep.lower() in ("1", "true", "yes", "on")
    args.moto_indexed_listing = args.moto_indexed_listing.lower() in ("1", "true", "yes", "on")
    args.workloads = [w for w in args.workloads.split(",") if w]
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; choose from {WORKLOADS}")
    return args


def _guarded(run: dict[str, Any], workload: str, body: Callable[[], dict[str, Any]]) -> bool:
    """Runs a workload; a failure is recorded and printed, not raised."""
    started = time.monotonic()
    try:
        run[workload] = body()
    except KeyboardInterrupt:
        raise
    except Exception as error:
        message = f"{type(error).__name__}: {error}"
        run["errors"][workload] = message[:2000]
        log(f"{workload} FAILED after {time.monotonic() - started:.1f}s: {message[:800]}")
        return False
    log(f"{workload}: {json.dumps({k: v for k, v in run[workload].items() if k != 'meta'})}")
    return True


def bench_one(args: argparse.Namespace, server: Server, bucket: Any, run: dict[str, Any]) -> None:
    api = targets.Api(server.base_url)
    project_id = api.create_project(f"storage bench {bucket.count}")
    storage_id = workloads.create_s3_storage(api, project_id, bucket)
    size = bucket.count

    def sync(expected_tasks: int, expected_new: int) -> dict[str, Any]:
        return workloads.run_sync(
            api,
            server,
            project_id=project_id,
            storage_id=storage_id,
            expected_tasks=expected_tasks,
            expected_new=expected_new,
            timeout=args.sync_timeout,
        )

    if "first" not in args.workloads:
        return
    if not _guarded(run, "first", lambda: sync(size, size)):
        return
    if "resync" in args.workloads:
        added = bucket.add(args.resync_add)
        log(f"added {args.resync_add} objects in {added:.1f}s; re-syncing")
        _guarded(run, "resync", lambda: sync(size + args.resync_add, args.resync_add))


def _server(
    target: str, args: argparse.Namespace, postgres_url: str | None, work_dir: Path
) -> AbstractContextManager[Server]:
    if target == "labelops":
        return targets.labelops(
            backend=args.backend,
            postgres_url=postgres_url,
            work_dir=work_dir,
            processes=args.processes,
            extra_env=LABELOPS_ENV,
        )
    return targets.label_studio(
        backend="postgresql" if args.backend == "postgresql" else "sqlite",
        postgres_url=postgres_url,
        work_dir=work_dir,
        executable=args.ls_executable,
        extra_env=LABEL_STUDIO_ENV,
    )


def _plan(args: argparse.Namespace) -> list[tuple[str, int]]:
    """(target, size), smallest first, LabelOps before Label Studio at each size."""
    plan = [("labelops", n) for n in args.sizes]
    if args.ls:
        plan += [("label-studio", n) for n in args.ls_sizes]
    return sorted(plan, key=lambda p: (p[1], p[0] != "labelops"))


def _save(path: Path, meta: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"meta": meta, "runs": runs}, indent=2, default=str) + "\n")
    partial.replace(path)


@contextlib.contextmanager
def _postgres_if(needed: bool) -> Iterator[str | None]:
    if not needed:
        yield None
        return
    with postgres_server() as url:
        yield url


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    results_path = RESULTS / f"storage-{time.strftime('%Y%m%d-%H%M%S')}.json"
    plan = _plan(args)
    log("plan: " + ", ".join(f"{t}/{n:,}" for t, n in plan))
    meta: dict[str, Any] = {
        "benchmark": "storage-sync",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(sys.argv),
        "options": dict(vars(args)),
        "labelops_revision": _git_revision(),
        "machine": {"cpus": os.cpu_count()},
        "notes": {
            "bucket": "moto's S3 server on loopback, a fresh one per run, N objects of 12 bytes "
            "under images/, one task per object (use_blob_urls), regex .*\\.jpg$; "
            "bucket.listing_floor_seconds: one plain boto3 listing of the whole bucket; "
            "indexed_listing: moto answers listings from a sorted index (its own listing is "
            "O(bucket) per page)",
            "clock": "from POST /api/storages/s3/{id}/sync until GET shows that sync finished "
            "(polled every 0.2 s); Label Studio without Redis syncs inside the POST",
            "rss": "the server process tree's summed VmRSS sampled every 0.1 s during the sync",
        },
    }
    runs: list[dict[str, Any]] = []
    if args.ls_from:
        earlier = json.loads(Path(args.ls_from).read_text())
        for reused in earlier["runs"]:
            if reused["target"] == "label-studio":
                runs.append({**reused, "reused_from": args.ls_from})
        meta["label_studio_version"] = earlier["meta"].get("label_studio_version")
        meta["label_studio_figures_from"] = args.ls_from
        log(f"Label Studio figures from {args.ls_from}")
    interrupted = False
    with ExitStack() as stack:
        try:
            args.ls_executable = None
            if args.ls:
                args.ls_executable = targets.ensure_label_studio(args.ls_version)
                meta["label_studio_version"] = targets.label_studio_version()
            postgres_url = stack.enter_context(_postgres_if(args.backend == "postgresql"))
            work_root = stack.enter_context(_work_root(args.keep))
            for target, size in plan:
                work_dir = work_root / f"{target}-{size}"
                work_dir.mkdir()
                run: dict[str, Any] = {
                    "target": target,
                    "backend": args.backend if target == "labelops" else "label-studio",
                    "size": size,
                    "errors": {},
                }
                log(f"--- {target}, {size:,} objects ---")
                try:
                    with (
                        filled_bucket(
                            work_dir,
                            f"bench-{size}",
                            size,
                            indexed_listing=args.moto_indexed_listing,
                        ) as bucket,
                        _server(target, args, postgres_url, work_dir) as server,
                    ):
                        run["bucket"] = {
                            "listing_floor_seconds": bucket.listing_floor_seconds,
                            "indexed_listing": args.moto_indexed_listing,
                        }
                        bench_one(args, server, bucket, run)
                except KeyboardInterrupt:
                    raise
                except Exception as error:
                    traceback.print_exc()
                    run["errors"]["server"] = f"{type(error).__name__}: {str(error)[:2000]}"
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


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())

"""`uv run python -m bench.soak`: mixed traffic for 30 minutes, with a worker killed and
PostgreSQL restarted in the middle, then a consistency check.

The suite runs as Kubernetes runs it (`labelops_testing.stack`: one process per service and a
Celery worker, Redis as the broker) on a PostgreSQL cluster of the soak's own (the embedded
one, on loopback), so restarting it touches nothing else. Traffic, all at once:

- `ANNOTATORS` (8) annotators, each its own user and thread: next task from the label
  stream, then an annotation on it;
- an importer: `IMPORT_TASKS` (500) tasks every `IMPORT_EVERY` (30) s, a queued job each;
- a syncer: `SYNC_FILES` (50) new JSON files in a local-files storage, synced every
  `SYNC_EVERY` (60) s;
- an exporter: a JSON snapshot every `EXPORT_EVERY` (120) s, downloaded whole;
- a reader: a data manager page every 2 s.

At 40 % of the run the worker is SIGKILLed (relaunched 5 s later); at 60 % PostgreSQL is
stopped for 10 s and started again. It prints, per `BUCKET` (120 s): requests, errors
(those within a fault window, which ends 60 s after the component is back, are counted apart
as expected), latency percentiles per operation; each process's memory growth from the end of
the warm-up to the end; and the final consistency check: the project's counters against
recounts in task-svc's database, every task imported or synced exactly once, and every
annotation in the final export. Figures go to `bench/results/soak-<timestamp>.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from labelops_common.auth.principal import Role
from labelops_common.db import Database
from labelops_common.embedded_postgres import EmbeddedPostgres
from labelops_common.settings import SERVICE_NAMES
from labelops_testing import stack as stacks
from labelops_testing.actors import create_actor
from labelops_testing.databases import embedded_data_dir
from sqlalchemy import text

from bench.infra import free_port, log, redis_broker_url, status_kb

BENCH_DIR = Path(__file__).resolve().parent
CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>"""
RESULT = {
    "from_name": "sentiment",
    "to_name": "text",
    "type": "choices",
    "value": {"choices": ["Positive"]},
}
#: Seconds after a fault's component is back during which its errors are expected.
RECOVERY_SECONDS = 60.0
TIMEOUT = httpx.Timeout(60.0)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    env = os.environ.get
    parser.add_argument("--minutes", type=float, default=float(env("MINUTES", "30")))
    parser.add_argument("--annotators", type=int, default=int(env("ANNOTATORS", "8")))
    parser.add_argument("--initial-tasks", type=int, default=int(env("INITIAL_TASKS", "5000")))
    parser.add_argument("--import-tasks", type=int, default=int(env("IMPORT_TASKS", "500")))
    parser.add_argument("--import-every", type=float, default=float(env("IMPORT_EVERY", "30")))
    parser.add_argument("--sync-files", type=int, default=int(env("SYNC_FILES", "50")))
    parser.add_argument("--sync-every", type=float, default=float(env("SYNC_EVERY", "60")))
    parser.add_argument("--export-every", type=float, default=float(env("EXPORT_EVERY", "120")))
    parser.add_argument("--bucket", type=float, default=float(env("BUCKET", "120")))
    return parser.parse_args(argv)


# --------------------------------------------------------------------------------------------
# What happened


@dataclass
class Call:
    at: float
    operation: str
    status: int
    seconds: float
    #: A 4xx the operation expects at times (the label stream's 404 when no task is left).
    normal: bool = False

    @property
    def failed(self) -> bool:
        return not (200 <= self.status < 400 or self.normal)


@dataclass
class Journal:
    """Every call, the fault windows, and what the server acknowledged."""

    started: float = field(default_factory=time.monotonic)
    calls: list[Call] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    annotation_ids: set[int] = field(default_factory=set)
    imported_tasks: int = 0
    synced_files: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return time.monotonic() - self.started

    def call(
        self,
        operation: str,
        send: Callable[[], httpx.Response],
        normal_statuses: frozenset[int] = frozenset(),
    ) -> httpx.Response | None:
        began = time.monotonic()
        try:
            answer: httpx.Response | None = send()
            status = answer.status_code if answer is not None else 0
        except httpx.HTTPError:
            answer, status = None, 0
        with self.lock:
            self.calls.append(
                Call(
                    began - self.started,
                    operation,
                    status,
                    time.monotonic() - began,
                    normal=status in normal_statuses,
                )
            )
        return answer

    def in_fault_window(self, call: Call) -> bool:
        """Whether the call was in flight at some point of a fault window (one that began
        before the component went down and ended after counts)."""
        return any(
            call.at <= f["end"] + RECOVERY_SECONDS and call.at + call.seconds >= f["start"]
            for f in self.faults
        )


def ok(answer: httpx.Response | None) -> bool:
    return answer is not None and answer.is_success


# --------------------------------------------------------------------------------------------
# Traffic


@dataclass
class World:
    stack: Any
    postgres: EmbeddedPostgres
    project_id: int
    storage_id: int
    sync_dir: Path
    annotator_headers: list[dict[str, str]]
    task_db: Database
    #: Tasks of the import before the traffic started.
    initial_tasks: int = 0
    journal: Journal = field(default_factory=Journal)
    stop: threading.Event = field(default_factory=threading.Event)

    def client(self, service: str, headers: dict[str, str] | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.stack.service_url(service),
            headers=headers or stacks.AUTH,
            timeout=TIMEOUT,
        )


def annotator(world: World, headers: dict[str, str]) -> None:
    journal = world.journal
    with world.client("task-svc", headers) as tasks:
        while not world.stop.is_set():
            answer = journal.call(
                "next",
                lambda: tasks.get(f"/api/projects/{world.project_id}/next"),
                normal_statuses=frozenset({404}),  # every task is done or taken, for now
            )
            if not ok(answer):
                world.stop.wait(1.0)
                continue
            assert answer is not None
            task_id = answer.json()["id"]
            created = journal.call(
                "annotate",
                partial(
                    tasks.post,
                    f"/api/tasks/{task_id}/annotations",
                    json={"result": [RESULT], "lead_time": 2.5},
                ),
            )
            if ok(created):
                assert created is not None
                with journal.lock:
                    journal.annotation_ids.add(created.json()["id"])
            else:
                world.stop.wait(0.5)


def import_tasks(world: World, count: int, label: str) -> bool:
    """One queued import; True once it completed (its tasks count as imported)."""
    journal = world.journal
    body = [{"text": f"{label} task {i} " + "lorem ipsum " * 10} for i in range(count)]
    with world.client("task-svc") as tasks:
        answer = journal.call(
            "import", lambda: tasks.post(f"/api/projects/{world.project_id}/import", json=body)
        )
        if not ok(answer):
            return False
        assert answer is not None
        payload = answer.json()
        if "import" not in payload:  # answered synchronously
            with journal.lock:
                journal.imported_tasks += count
            return True
        import_id = payload["import"]
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            state = journal.call(
                "import-status",
                lambda: tasks.get(f"/api/projects/{world.project_id}/imports/{import_id}"),
            )
            status = state.json().get("status") if ok(state) and state is not None else None
            if status == "completed":
                with journal.lock:
                    journal.imported_tasks += count
                return True
            if status == "failed":
                log(f"soak: import {import_id} failed: {state.text if state else ''}")
                return False
            time.sleep(1.0)
    log(f"soak: import {import_id} did not complete within 600 s")
    return False


def importer(world: World, count: int, every: float) -> None:
    round_number = 0
    while not world.stop.wait(every):
        round_number += 1
        import_tasks(world, count, f"import-{round_number}")


def wait_for_sync(world: World, storage: httpx.Client, seconds: float = 600) -> str:
    deadline = time.monotonic() + seconds
    status = "unknown"
    while time.monotonic() < deadline:
        answer = world.journal.call(
            "sync-status", lambda: storage.get(f"/api/storages/localfiles/{world.storage_id}")
        )
        if ok(answer) and answer is not None:
            status = answer.json().get("status") or "unknown"
            if status in {"completed", "failed"}:
                return status
        time.sleep(1.0)
    return status


def syncer(world: World, files: int, every: float) -> None:
    round_number = 0
    with world.client("storage-sync") as storage:
        while not world.stop.wait(every):
            round_number += 1
            for i in range(files):
                path = world.sync_dir / f"round-{round_number:04d}-{i:04d}.json"
                path.write_text(json.dumps({"text": f"synced {round_number}/{i}"}))
            with world.journal.lock:
                world.journal.synced_files += files
            sync_storage(world, storage)


def sync_storage(world: World, storage: httpx.Client) -> str:
    # A sync that failed (a fault in its way) is asked again until one completes: what
    # was already imported must not come twice.
    for _ in range(10):
        answer = world.journal.call(
            "sync", lambda: storage.post(f"/api/storages/localfiles/{world.storage_id}/sync")
        )
        if ok(answer) and wait_for_sync(world, storage) == "completed":
            return "completed"
        time.sleep(5.0)
    return "failed"


def export_snapshot(world: World) -> list[dict[str, Any]] | None:
    journal = world.journal
    with world.client("export-svc") as exports:
        created = journal.call(
            "export",
            lambda: exports.post(f"/api/projects/{world.project_id}/exports", json={}),
        )
        if not ok(created):
            return None
        assert created is not None
        export_id = created.json()["id"]
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            state = journal.call(
                "export-status",
                lambda: exports.get(f"/api/projects/{world.project_id}/exports/{export_id}"),
            )
            status = state.json().get("status") if ok(state) and state is not None else None
            if status == "completed":
                download = journal.call(
                    "export-download",
                    lambda: exports.get(
                        f"/api/projects/{world.project_id}/exports/{export_id}/download",
                        params={"exportType": "JSON"},
                    ),
                )
                if ok(download) and download is not None:
                    tasks: list[dict[str, Any]] = download.json()
                    return tasks
                return None
            if status == "failed":
                return None
            time.sleep(1.0)
    return None


def exporter(world: World, every: float) -> None:
    while not world.stop.wait(every):
        export_snapshot(world)


def reader(world: World) -> None:
    with world.client("task-svc") as tasks:
        while not world.stop.wait(2.0):
            world.journal.call(
                "list",
                lambda: tasks.get(
                    "/api/tasks",
                    params={"project": world.project_id, "page_size": 50, "page": 3},
                ),
            )


# --------------------------------------------------------------------------------------------
# Faults and memory


def kill_worker(world: World) -> None:
    worker = world.stack.worker
    start = world.journal.now()
    log("soak: SIGKILL the worker")
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    time.sleep(5.0)
    stacks.relaunch(world.stack, worker)
    world.journal.faults.append(
        {"fault": "worker killed", "start": start, "end": world.journal.now()}
    )
    log("soak: the worker is back")


def restart_postgres(world: World) -> None:
    start = world.journal.now()
    log("soak: stop PostgreSQL for 10 s")
    world.postgres.stop()
    time.sleep(10.0)
    world.postgres.start()
    world.journal.faults.append(
        {"fault": "PostgreSQL restarted", "start": start, "end": world.journal.now()}
    )
    log("soak: PostgreSQL is back")


def memory_sampler(world: World, samples: dict[str, list[tuple[float, int, float]]]) -> None:
    while not world.stop.wait(15.0):
        for process in world.stack.all_processes():
            samples[process.name].append(
                (
                    world.journal.now(),
                    process.process.pid,
                    status_kb(process.process.pid, "VmRSS") / 1024,
                )
            )


# --------------------------------------------------------------------------------------------
# Report


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def buckets(journal: Journal, width: float) -> list[dict[str, Any]]:
    grouped: dict[int, list[Call]] = defaultdict(list)
    for call in journal.calls:
        grouped[int(call.at // width)].append(call)
    rows = []
    for index in sorted(grouped):
        calls = grouped[index]
        row: dict[str, Any] = {
            "from_s": index * width,
            "requests": len(calls),
            "errors": sum(1 for c in calls if c.failed),
            "expected_errors": sum(1 for c in calls if c.failed and journal.in_fault_window(c)),
        }
        for operation in ("next", "annotate", "list"):
            seconds = [c.seconds * 1000 for c in calls if c.operation == operation]
            row[operation] = {
                "count": len(seconds),
                "p50_ms": round(percentile(seconds, 0.50), 1),
                "p95_ms": round(percentile(seconds, 0.95), 1),
                "p99_ms": round(percentile(seconds, 0.99), 1),
            }
        rows.append(row)
    return rows


def memory_growth(
    samples: dict[str, list[tuple[float, int, float]]], warm_up: float
) -> dict[str, dict[str, Any]]:
    """Per process: RSS at the end of the warm-up and at the end, of the same process id (a
    relaunched worker is measured from its relaunch)."""
    growth = {}
    for name, series in samples.items():
        last_pid = series[-1][1]
        own = [s for s in series if s[1] == last_pid]
        baseline = next((s for s in own if s[0] >= warm_up), own[0])
        end = own[-1]
        hours = max(end[0] - baseline[0], 1.0) / 3600
        growth[name] = {
            "from_s": round(baseline[0]),
            "start_mb": round(baseline[2], 1),
            "end_mb": round(end[2], 1),
            "growth_mb": round(end[2] - baseline[2], 1),
            "growth_mb_per_hour": round((end[2] - baseline[2]) / hours, 1),
            "peak_mb": round(max(s[2] for s in own), 1),
        }
    return growth


def consistency(world: World, exported: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The project's counters against recounts, and what was acknowledged against what is
    stored and exported."""
    with world.client("project-svc") as projects:
        project = projects.get(f"/api/projects/{world.project_id}").json()
    with world.task_db.session() as session:

        def one(sql: str) -> int:
            return int(session.execute(text(sql), {"p": world.project_id}).scalar_one())

        tasks = one("SELECT count(*) FROM tasks WHERE project_id = :p")
        synced_tasks = one(
            "SELECT count(*) FROM tasks WHERE project_id = :p AND source_key IS NOT NULL"
        )
        duplicate_synced = one(
            "SELECT count(*) FROM (SELECT source_key FROM tasks WHERE project_id = :p AND "
            "source_key IS NOT NULL GROUP BY source_key HAVING count(*) > 1) d"
        )
        annotations = one(
            "SELECT count(*) FROM annotations WHERE project_id = :p AND NOT was_cancelled"
        )
        labeled = one(
            "SELECT count(*) FROM tasks t WHERE t.project_id = :p AND EXISTS "
            "(SELECT 1 FROM annotations a WHERE a.task_id = t.id AND NOT a.was_cancelled)"
        )
        wrong_task_counters = one(
            "SELECT count(*) FROM tasks t WHERE t.project_id = :p AND t.total_annotations <> "
            "(SELECT count(*) FROM annotations a WHERE a.task_id = t.id AND NOT a.was_cancelled)"
        )
        stored_ids = {
            int(row[0])
            for row in session.execute(
                text("SELECT id FROM annotations WHERE project_id = :p"), {"p": world.project_id}
            )
        }
    acknowledged = world.journal.annotation_ids
    exported_ids = {int(a["id"]) for task in (exported or []) for a in task.get("annotations", [])}
    checks = {
        "task_number equals recount": project.get("task_number") == tasks,
        "total_annotations_number equals recount": project.get("total_annotations_number")
        == annotations,
        "num_tasks_with_annotations equals recount": project.get("num_tasks_with_annotations")
        == labeled,
        "every task's total_annotations equals its recount": wrong_task_counters == 0,
        "every completed import and synced file is a task, once": tasks
        == world.initial_tasks + world.journal.imported_tasks + world.journal.synced_files,
        "no synced file imported twice": duplicate_synced == 0,
        "every acknowledged annotation is stored": acknowledged <= stored_ids,
        "every stored annotation is in the final export": exported is not None
        and stored_ids == exported_ids,
    }
    return {
        "project_counters": {
            k: project.get(k)
            for k in ("task_number", "total_annotations_number", "num_tasks_with_annotations")
        },
        "recounts": {
            "tasks": tasks,
            "synced_tasks": synced_tasks,
            "annotations": annotations,
            "tasks_with_annotations": labeled,
            "tasks_with_wrong_counters": wrong_task_counters,
        },
        "acknowledged": {
            "annotations": len(acknowledged),
            "imported_tasks": world.journal.imported_tasks,
            "synced_files": world.journal.synced_files,
        },
        "stored_not_acknowledged_annotations": len(stored_ids - acknowledged),
        "exported_annotations": len(exported_ids),
        "checks": checks,
    }


def render(result: dict[str, Any]) -> str:
    lines = ["", "Soak: latency (ms) and errors per bucket"]
    lines.append(
        f"{'from':>6} {'req':>6} {'err':>5} {'exp.':>5} | {'next p50/p95/p99':>20} | "
        f"{'annotate p50/p95/p99':>22} | {'list p50/p95/p99':>20}"
    )
    for row in result["buckets"]:

        def cell(op: str, row: dict[str, Any] = row) -> str:
            figures = row[op]
            return f"{figures['p50_ms']:.0f}/{figures['p95_ms']:.0f}/{figures['p99_ms']:.0f}"

        lines.append(
            f"{row['from_s']:>5.0f}s {row['requests']:>6} {row['errors']:>5} "
            f"{row['expected_errors']:>5} | {cell('next'):>20} | {cell('annotate'):>22} | "
            f"{cell('list'):>20}"
        )
    lines.append("")
    lines.append(
        "Faults: "
        + "; ".join(f"{f['fault']} at {f['start']:.0f}-{f['end']:.0f} s" for f in result["faults"])
    )
    totals = result["totals"]
    lines.append(
        f"Requests {totals['requests']}, errors {totals['errors']} "
        f"({totals['expected_errors']} within fault windows, "
        f"{totals['unexpected_errors']} outside)"
    )
    lines.append("")
    lines.append("Memory (RSS MB, from the end of the warm-up)")
    for name, figures in result["memory"].items():
        lines.append(
            f"  {name:<14} {figures['start_mb']:>7} -> {figures['end_mb']:>7} "
            f"({figures['growth_mb']:+} MB, {figures['growth_mb_per_hour']:+} MB/h, "
            f"peak {figures['peak_mb']})"
        )
    lines.append("")
    lines.append("Consistency")
    for check, passed in result["consistency"]["checks"].items():
        lines.append(f"  {'ok  ' if passed else 'FAIL'} {check}")
    lines.append(f"  {json.dumps(result['consistency']['recounts'])}")
    lines.append(f"  acknowledged {json.dumps(result['consistency']['acknowledged'])}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Run


@contextmanager
def soak_world(args: argparse.Namespace, work: Path) -> Iterator[World]:
    broker = redis_broker_url(database=11)
    if broker is None:
        raise SystemExit("bench.soak needs the test Redis: bash scripts/testinfra.sh up")
    with ExitStack() as cleanup, embedded_data_dir() as data_dir:
        postgres = EmbeddedPostgres(data_dir, port=free_port())
        names = {name: name.replace("-", "_") for name in SERVICE_NAMES}
        postgres.start(databases=list(names.values()))
        cleanup.callback(postgres.stop)
        sync_root = work / "files"
        sync_dir = sync_root / "incoming"
        sync_dir.mkdir(parents=True)
        stack = stacks.start_stack(
            work / "stack",
            broker_url=broker,
            database_urls={name: postgres.url(db) for name, db in names.items()},
            extra_env={
                "LABELOPS_STORAGE_SYNC_LOCAL_FILES_DOCUMENT_ROOT": str(sync_root),
                "LABELOPS_LOG_LEVEL": "WARNING",
            },
        )
        cleanup.callback(stacks.stop_stack, stack)
        project_db = Database.from_url(postgres.url(names["project-svc"]))
        cleanup.callback(project_db.engine.dispose)
        task_db = Database.from_url(postgres.url(names["task-svc"]))
        cleanup.callback(task_db.engine.dispose)
        with httpx.Client(
            base_url=stack.service_url("project-svc"), headers=stacks.AUTH, timeout=TIMEOUT
        ) as projects:
            me = projects.get("/api/current-user/whoami")
            me.raise_for_status()
            organization_id = me.json()["active_organization"]
            if not organization_id:
                raise SystemExit(f"soak: the admin has no organization: {me.text}")
            created = projects.post(
                "/api/projects",
                json={"title": "Soak", "label_config": CONFIG, "maximum_annotations": 1},
            )
            created.raise_for_status()
            project_id = created.json()["id"]
            headers = []
            for _ in range(args.annotators):
                actor = create_actor(
                    project_db,
                    organization_id=organization_id,
                    role=Role.ANNOTATOR,
                    secret=stacks.SECRET,
                    email_prefix="soak-",
                )
                projects.post(
                    f"/api/projects/{project_id}/members/", json={"user": actor.user_id}
                ).raise_for_status()
                headers.append(actor.headers)
        with httpx.Client(
            base_url=stack.service_url("storage-sync"), headers=stacks.AUTH, timeout=TIMEOUT
        ) as storage:
            answer = storage.post(
                "/api/storages/localfiles",
                json={
                    "project": project_id,
                    "path": str(sync_dir),
                    "use_blob_urls": False,
                    "regex_filter": r".*\.json",
                },
            )
            answer.raise_for_status()
            storage_id = answer.json()["id"]
        yield World(
            stack=stack,
            postgres=postgres,
            project_id=project_id,
            storage_id=storage_id,
            sync_dir=sync_dir,
            annotator_headers=headers,
            task_db=task_db,
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    duration = args.minutes * 60
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results_path = BENCH_DIR / "results" / f"soak-{stamp}.json"
    with tempfile.TemporaryDirectory(prefix="labelops-soak-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)
        log("soak: starting the stack")
        with soak_world(args, work) as world:
            if not import_tasks(world, args.initial_tasks, "initial"):
                raise SystemExit("soak: the initial import failed")
            world.initial_tasks = args.initial_tasks
            world.journal = Journal()
            samples: dict[str, list[tuple[float, int, float]]] = defaultdict(list)
            threads = [
                threading.Thread(target=annotator, args=(world, h), daemon=True)
                for h in world.annotator_headers
            ]
            threads += [
                threading.Thread(
                    target=importer, args=(world, args.import_tasks, args.import_every), daemon=True
                ),
                threading.Thread(
                    target=syncer, args=(world, args.sync_files, args.sync_every), daemon=True
                ),
                threading.Thread(target=exporter, args=(world, args.export_every), daemon=True),
                threading.Thread(target=reader, args=(world,), daemon=True),
                threading.Thread(target=memory_sampler, args=(world, samples), daemon=True),
            ]
            log(f"soak: {duration / 60:.0f} minutes of traffic")
            for thread in threads:
                thread.start()
            faults = [(0.4 * duration, kill_worker), (0.6 * duration, restart_postgres)]
            for at, fault in faults:
                world.stop.wait(max(0.0, at - world.journal.now()))
                fault(world)
            world.stop.wait(max(0.0, duration - world.journal.now()))
            world.stop.set()
            log("soak: traffic stopped; waiting for the work in flight")
            for thread in threads:
                thread.join(timeout=900)
            with world.client("storage-sync") as storage:
                sync_storage(world, storage)
            time.sleep(10.0)  # events of the last annotations reach their handlers
            exported = export_snapshot(world)
            calls = world.journal.calls
            errors = [c for c in calls if c.failed]
            expected = [c for c in errors if world.journal.in_fault_window(c)]
            unexpected = [c for c in errors if not world.journal.in_fault_window(c)]
            result: dict[str, Any] = {
                "args": vars(args),
                "faults": world.journal.faults,
                "totals": {
                    "requests": len(calls),
                    "errors": len(errors),
                    "expected_errors": len(expected),
                    "unexpected_errors": len(unexpected),
                    "unexpected_by_operation_and_status": dict(
                        Counter(f"{c.operation} {c.status}" for c in unexpected)
                    ),
                },
                "unexpected_errors_at": [
                    {"at_s": round(c.at, 1), "operation": c.operation, "status": c.status}
                    for c in unexpected[:100]
                ],
                "buckets": buckets(world.journal, args.bucket),
                "memory": memory_growth(samples, warm_up=min(120.0, duration / 5)),
                "consistency": consistency(world, exported),
            }
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(result, indent=2))
    print(render(result))
    print(f"\nfigures: {results_path}")
    return 0 if all(result["consistency"]["checks"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())

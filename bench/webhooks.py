"""Webhook benchmark: annotating at full speed with a webhook receiving every event.

```bash
uv run python -m bench.webhooks                       # 2 rounds of 1,000 annotations per set-up
uv run python -m bench.webhooks --annotations 500 --rounds 3 --fail-every 50
```

LabelOps runs as in production on one machine: `labelops serve --target all --processes N`
(N server processes, whose embedded workers run the jobs, and one process whose worker
handles events and webhook deliveries) on fresh databases of the test PostgreSQL, Redis as
the broker, `LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS=true` so it may call the receiver on
loopback. One project with a webhook (all actions, payloads on, a signing secret) to a
receiver in a process of its own (`bench.receiver`). Each round annotates `--annotations`
fresh tasks from `--clients` (8) threads twice: once with the webhook switched off
(`is_active: false`, so events are still published and looked at, and no delivery is made)
and once with it on, the order alternating between rounds; after a webhook half, the run
waits until the receiver has every event, so the next half starts with an empty queue.

Figures: the annotation rate and the server's CPU per annotation in each set-up (rate change
= on / off - 1): while the clients annotate, and until the work they caused is done
(`..._with_drain`: the broker's `events` and `webhooks` queues empty, and for the webhook
half every event received). The first alone flatters a set-up that falls behind: work left
queued at the end of the window is not counted, so a faster delivery path can look costlier
there; the second counts all of it. The machine's CPU per annotation (every process: the
server, PostgreSQL, the receiver, the clients) is given with drain too: on this saturated
machine, the rate falls by what a delivery adds to it; and split by process kind
(`cpu_by_kind`), to see which side a delivery's CPU lands on. Then, for the deliveries: events
expected (one `ANNOTATION_CREATED` per annotation created), received, lost (expected, never
answered 2xx), duplicated (a second 2xx for the same annotation), requests per delivery
against the attempts the deliveries carry (`X-LabelOps-Attempt`: a retry is a later attempt
of the same `X-LabelOps-Delivery`), every signature checked, and delivery latency (receipt
time minus `X-LabelOps-Event-Time`, the event's commit, for the successful request)
p50/p95/max. `--fail-every K` makes the receiver answer 500 to every K-th request, to see
retries count as retries and not as duplicates. Nothing here asserts a time: it measures and
reports, writing `bench/results/webhooks-<timestamp>.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from http.client import HTTPConnection, HTTPException
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis
from labelops_testing.databases import redis_url_with_free_db
from project_svc.webhooks import signing
from prometheus_client.parser import text_string_to_metric_families

from bench.infra import (
    ROOT,
    Server,
    _reachable,
    _read_postgres_url,
    log,
    stat_cpu_seconds,
    tree_cpu_seconds,
)
from bench.receiver import ProcessReceiver
from bench.targets import Api, labelops
from bench.workloads import choices_result

SIGNING_SECRET = "bench-webhook-signing-secret-0123456789"  # noqa: S105 - loopback only


def annotate(api: Api, server: Server, task_ids: list[int], *, clients: int) -> dict[str, Any]:
    """Workload 3 of the task benchmark, keeping the created annotations' ids."""
    work: queue.SimpleQueue[int] = queue.SimpleQueue()
    for task_id in task_ids:
        work.put(task_id)
    created: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    address = urlsplit(api.base_url)
    headers = {**api.headers, "Content-Type": "application/json"}

    def worker() -> None:
        http = HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=120)
        try:
            while True:
                try:
                    task_id = work.get_nowait()
                except queue.Empty:
                    return
                body = json.dumps({"result": choices_result(), "lead_time": 1.5})
                try:
                    http.request("POST", f"/api/tasks/{task_id}/annotations", body, headers)
                    answer = http.getresponse()
                    text = answer.read()
                except (OSError, HTTPException) as error:
                    http.close()
                    with lock:
                        errors.append(f"task {task_id}: {type(error).__name__}")
                    continue
                with lock:
                    if answer.status == 201:
                        created.append(int(json.loads(text)["id"]))
                    elif len(errors) < 20:
                        errors.append(f"task {task_id}: HTTP {answer.status}")
        finally:
            http.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    cpu_before = tree_cpu_seconds(server.process.pid, skip_root=server.skip_root_rss)
    machine_cpu_before = machine_cpu_seconds()
    cpu_by_kind_before = cpu_by_kind()
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    cpu = tree_cpu_seconds(server.process.pid, skip_root=server.skip_root_rss) - cpu_before
    return {
        "created": len(created),
        "annotation_ids": created,
        "errors": errors,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "cpu_before": cpu_before,
        "machine_cpu_before": machine_cpu_before,
        "cpu_by_kind_before": cpu_by_kind_before,
    }


def machine_cpu_seconds() -> float:
    """CPU seconds every process of the machine has used (`/proc/stat`, all CPUs): the
    server, PostgreSQL, the receiver and the bench's clients together."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:]]
    idle, iowait = ticks[3], ticks[4]
    return (sum(ticks) - idle - iowait) / os.sysconf("SC_CLK_TCK")


#: `cpu_by_kind`'s kinds: the server's processes by role (`labelops serve` names them),
#: PostgreSQL's, and the rest (the clients, the receiver, the broker).
PROCESS_KINDS = ("labelops-http", "labelops-events", "postgres", "other")


def cpu_by_kind() -> dict[str, float]:
    """CPU seconds used so far by the machine's live processes, summed by `PROCESS_KINDS`:
    which side of the server a delivery's CPU lands on (the events process sends; the HTTP
    processes answer its task reads beside the annotators' requests)."""
    totals = dict.fromkeys(PROCESS_KINDS, 0.0)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        command = text[text.index("(") + 1 : text.rindex(")")]
        kind = command if command in PROCESS_KINDS else "other"
        totals[kind] += stat_cpu_seconds(text)
    return totals


def _import_tasks(api: Api, project_id: int, count: int) -> list[int]:
    tasks = [{"text": f"review {i}: " + "a fine film " * 15} for i in range(count)]
    with api.client(timeout=600) as http:
        answer = http.post(f"/api/projects/{project_id}/import", json=tasks)
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"import: HTTP {answer.status_code} {answer.text[:300]}")
    ids = api.first_task_ids(project_id, count)
    if len(ids) != count:
        raise RuntimeError(f"imported {len(ids)} of {count} tasks")
    return ids


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def check_deliveries(receiver: ProcessReceiver, expected: set[int]) -> dict[str, Any]:
    """What the receiver got for the annotations in `expected`."""
    ok_by_annotation: Counter[int] = Counter()
    by_delivery: dict[str, list[tuple[int, int]]] = defaultdict(list)
    latencies: list[float] = []
    bad_signatures = 0
    other_actions: Counter[str] = Counter()
    for request in receiver.requests:
        if not signing.verify(
            SIGNING_SECRET, request.body, request.headers.get("x-labelops-signature-256", "")
        ):
            bad_signatures += 1
        body = request.json()
        if body.get("action") != "ANNOTATION_CREATED":
            other_actions[str(body.get("action"))] += 1
            continue
        annotation_id = int(body["annotation"]["id"])
        if annotation_id not in expected:
            continue
        delivery = request.headers["x-labelops-delivery"]
        by_delivery[delivery].append((int(request.headers["x-labelops-attempt"]), request.answered))
        if 200 <= request.answered < 300:
            ok_by_annotation[annotation_id] += 1
            event_time = float(request.headers["x-labelops-event-time"])
            latencies.append(request.received_at - event_time)
    # A delivery's requests are its attempts 1..k, only the last one answered 2xx.
    attempts_consistent = all(
        sorted(a for a, _ in tries) == list(range(1, len(tries) + 1))
        and sum(1 for _, status in tries if 200 <= status < 300) <= 1
        for tries in by_delivery.values()
    )
    requests = sum(len(tries) for tries in by_delivery.values())
    return {
        "expected": len(expected),
        "received": len(ok_by_annotation),
        "lost": len(expected - set(ok_by_annotation)),
        "duplicated": sum(n - 1 for n in ok_by_annotation.values() if n > 1),
        "deliveries": len(by_delivery),
        "requests": requests,
        "retries": requests - len(by_delivery),
        "attempts_match_requests": attempts_consistent,
        "bad_signatures": bad_signatures,
        "other_actions": dict(other_actions),
        "latency_s": {
            "p50": _round(_percentile(latencies, 0.50)),
            "p95": _round(_percentile(latencies, 0.95)),
            "max": _round(max(latencies) if latencies else None),
            "mean": _round(statistics.fmean(latencies) if latencies else None),
        },
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def run(args: argparse.Namespace) -> dict[str, Any]:
    # The running test servers (`.testinfra/env`, sourced or in this checkout); never started here.
    postgres_url = os.environ.get("LABELOPS_TEST_POSTGRES_URL") or _read_postgres_url()
    if not postgres_url or not _reachable(postgres_url):
        raise SystemExit("the test PostgreSQL (.testinfra/env) is not reachable; not starting one")
    if not os.environ.get("LABELOPS_TEST_REDIS_URL"):
        raise SystemExit("source .testinfra/env first: the broker is the test Redis")
    # A Redis database of its own, emptied at the end (others use the same server).
    broker = redis_url_with_free_db()
    work_dir = ROOT / "bench" / "results" / "webhooks-work"
    work_dir.mkdir(parents=True, exist_ok=True)
    receiver = ProcessReceiver(work_dir / "received.frames", fail_every=args.fail_every).start()
    delivered = Delivered(receiver)
    figures: dict[str, Any] = {"rounds": []}
    env = {
        "LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
        "LABELOPS_BROKER_URL": broker,
        **dict(setting.split("=", 1) for setting in args.server_env),
    }
    try:
        with labelops(
            backend="postgresql",
            postgres_url=postgres_url,
            work_dir=work_dir,
            processes=args.processes,
            log_name="labelops-webhooks.log",
            extra_env=env,
        ) as server:
            api = Api(base_url=server.base_url)
            project_id = api.create_project("webhook bench")
            task_ids = _import_tasks(api, project_id, 2 * args.rounds * args.annotations + 20)
            with api.client() as http:
                answer = http.post(
                    "/api/webhooks",
                    json={
                        "project": project_id,
                        "url": receiver.url,
                        "is_active": False,
                        "secret": SIGNING_SECRET,
                    },
                )
                answer.raise_for_status()
                webhook_id = int(answer.json()["id"])
            # Warm-up: a few annotations, untimed, so neither set-up pays first-call costs.
            annotate(api, server, task_ids[-20:], clients=args.clients)
            task_ids = task_ids[:-20]
            totals = {
                setup: {
                    "created": 0,
                    **dict.fromkeys(
                        ("seconds", "cpu", "cpu_with_drain", "machine_cpu_with_drain"), 0.0
                    ),
                }
                for setup in ("off", "on")
            }
            by_kind = {setup: dict.fromkeys(PROCESS_KINDS, 0.0) for setup in ("off", "on")}
            expected: set[int] = set()
            for number in range(args.rounds):
                order = ("off", "on") if number % 2 == 0 else ("on", "off")
                round_figures: dict[str, Any] = {}
                for setup in order:
                    batch, task_ids = task_ids[: args.annotations], task_ids[args.annotations :]
                    with httpx.Client(
                        base_url=server.base_url, headers=api.headers, timeout=30
                    ) as http:
                        http.patch(
                            f"/api/webhooks/{webhook_id}", json={"is_active": setup == "on"}
                        ).raise_for_status()
                    result = annotate(api, server, batch, clients=args.clients)
                    rate = result["created"] / result["seconds"] if result["seconds"] else 0.0
                    totals[setup]["created"] += result["created"]
                    totals[setup]["seconds"] += result["seconds"]
                    totals[setup]["cpu"] += result["cpu_seconds"]
                    round_figures[setup] = {
                        "created": result["created"],
                        "errors": result["errors"],
                        "per_second": round(rate, 1),
                    }
                    log(f"round {number + 1} webhook {setup}: {rate:.1f} annotations/s")
                    if setup == "on":
                        expected.update(result["annotation_ids"])
                        drained = _wait_for(delivered, expected, seconds=args.drain_timeout)
                        round_figures["drain_seconds"] = drained
                    _wait_quiet(broker, seconds=args.drain_timeout)
                    for kind, seconds in cpu_by_kind().items():
                        by_kind[setup][kind] += seconds - result["cpu_by_kind_before"][kind]
                    totals[setup]["machine_cpu_with_drain"] += (
                        machine_cpu_seconds() - result["machine_cpu_before"]
                    )
                    totals[setup]["cpu_with_drain"] += (
                        tree_cpu_seconds(server.process.pid, skip_root=server.skip_root_rss)
                        - result["cpu_before"]
                    )
                figures["rounds"].append(round_figures)
            figures["webhook_id"] = webhook_id
            figures["stages_mean_seconds"] = stage_means(server.base_url)
            log(f"stage means (s): {figures['stages_mean_seconds']}")
    finally:
        receiver.stop()
        client = redis.Redis.from_url(broker)
        client.flushdb()
        client.close()
    for setup, total in totals.items():
        figures[setup] = {
            "annotations": total["created"],
            "per_second": round(total["created"] / total["seconds"], 1),
            "server_cpu_ms_per_annotation": round(total["cpu"] * 1000 / total["created"], 2),
            "server_cpu_ms_per_annotation_with_drain": round(
                total["cpu_with_drain"] * 1000 / total["created"], 2
            ),
            "machine_cpu_ms_per_annotation_with_drain": round(
                total["machine_cpu_with_drain"] * 1000 / total["created"], 2
            ),
            "cpu_ms_per_annotation_with_drain_by_kind": {
                kind: round(seconds * 1000 / total["created"], 2)
                for kind, seconds in by_kind[setup].items()
            },
        }
    figures["rate_change"] = round(
        figures["on"]["per_second"] / figures["off"]["per_second"] - 1, 3
    )
    figures["deliveries"] = check_deliveries(receiver, expected)
    return figures


#: The server's own histograms for the steps between an event's commit and its delivery.
STAGES = {
    "event_lag": "labelops_event_lag_seconds",
    "delivery_queue_age": "labelops_webhook_queue_age_seconds",
    "request": "labelops_webhook_request_seconds",
    "delivery_latency": "labelops_webhook_delivery_latency_seconds",
}


def stage_means(base_url: str) -> dict[str, float | None]:
    """Mean of each stage's histogram (sum / count over the whole run), from `/metrics`:
    where a delivery's latency goes (the event waiting for a worker, the delivery waiting
    for its attempt, the request itself)."""
    text = httpx.get(f"{base_url}/metrics", timeout=30).text
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_sum"):
                sums[sample.name.removesuffix("_sum")] += sample.value
            elif sample.name.endswith("_count"):
                counts[sample.name.removesuffix("_count")] += sample.value
    return {
        stage: (round(sums[name] / counts[name], 3) if counts.get(name) else None)
        for stage, name in STAGES.items()
    }


#: The server's queues on the broker (kombu's Redis transport: a list per queue, and the
#: messages a worker holds, not yet acknowledged, in one hash).
QUEUES = ("events", "webhooks")


def _wait_quiet(broker: str, *, seconds: float) -> None:
    """Until the broker holds no message of the server's queues, queued or held by a
    worker (events still in a process's outbox get a moment to be sent first)."""
    time.sleep(0.5)
    client = redis.Redis.from_url(broker)
    try:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if not any(client.llen(queue) for queue in QUEUES) and not client.hlen("unacked"):
                return
            time.sleep(0.1)
    finally:
        client.close()


class Delivered:
    """The annotations whose `ANNOTATION_CREATED` the receiver answered 2xx. Each `update`
    parses only the requests that came since the last: the waits are inside the CPU window
    of the webhook half."""

    def __init__(self, receiver: ProcessReceiver) -> None:
        self.receiver = receiver
        self.annotation_ids: set[int] = set()
        self._seen = 0

    def update(self) -> set[int]:
        received = self.receiver.requests
        self.annotation_ids.update(
            int(r.json()["annotation"]["id"])
            for r in received[self._seen :]
            if 200 <= r.answered < 300 and r.headers.get("x-labelops-event") == "ANNOTATION_CREATED"
        )
        self._seen = len(received)
        return self.annotation_ids


def _wait_for(delivered: Delivered, expected: set[int], *, seconds: float) -> float | None:
    """Seconds until every expected annotation was answered 2xx (None: not within `seconds`)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if expected <= delivered.update():
            return round(time.monotonic() - started, 2)
        time.sleep(0.2)
    return None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__)
    parser.add_argument("--annotations", type=int, default=1000, help="per set-up and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--fail-every", type=int, default=0, help="answer 500 to every K-th")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the server, e.g. LABELOPS_EMBEDDED_WORKER_CONCURRENCY=4",
    )

    return parser.parse_args(argv)


BY_KIND = "cpu_ms_per_annotation_with_drain_by_kind"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.strftime("%Y%m%d-%H%M%S")
    figures = run(args)
    figures["options"] = vars(args)
    figures["machine"] = {"cpus": os.cpu_count(), "load_average": os.getloadavg()}
    path = ROOT / "bench" / "results" / f"webhooks-{started}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    deliveries = figures["deliveries"]
    print(
        f"annotations/s: off {figures['off']['per_second']}, on {figures['on']['per_second']} "
        f"({figures['rate_change']:+.1%}); server CPU ms/annotation: off "
        f"{figures['off']['server_cpu_ms_per_annotation']}, on "
        f"{figures['on']['server_cpu_ms_per_annotation']} (with drain: off "
        f"{figures['off']['server_cpu_ms_per_annotation_with_drain']}, on "
        f"{figures['on']['server_cpu_ms_per_annotation_with_drain']}); machine CPU "
        f"ms/annotation with drain: off {figures['off']['machine_cpu_ms_per_annotation_with_drain']}, "
        f"on {figures['on']['machine_cpu_ms_per_annotation_with_drain']}\n"
        f"by process, off -> on: "
        + ", ".join(
            f"{kind} {figures['off'][BY_KIND][kind]} -> {figures['on'][BY_KIND][kind]}"
            for kind in PROCESS_KINDS
        )
        + "\n"
        f"events: expected {deliveries['expected']}, received {deliveries['received']}, "
        f"lost {deliveries['lost']}, duplicated {deliveries['duplicated']}, retries "
        f"{deliveries['retries']} (attempts match requests: {deliveries['attempts_match_requests']}), "
        f"bad signatures {deliveries['bad_signatures']}\n"
        f"delivery latency s: {deliveries['latency_s']}\nfigures: {path.relative_to(ROOT)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

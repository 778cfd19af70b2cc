"""Predictions through the reference ML backend: `python -m bench.ml` (or `make bench-ml`).

1. **The model server alone** (`direct`): N tasks straight to the reference backend's
   `/predict` (examples/sklearn-text-classifier), for each batch size and number of concurrent
   callers: tasks/s. The ceiling no platform can beat.
2. **Through LabelOps** (`platform`): N tasks imported into a project, the backend connected
   (`POST /api/ml`), then for each (batch size, concurrency) — ml-gateway's
   `LABELOPS_ML_GATEWAY_PREDICT_BATCH_SIZE` and `LABELOPS_ML_GATEWAY_BACKEND_CONCURRENCY`, one
   server start each, on the same databases — the project's predictions are deleted and
   "Retrieve predictions" is run for every task (the data manager action); tasks/s from the
   POST until the job (`GET /api/ml/{id}/jobs`, polled every 0.2 s) has finished.
3. **Annotating while predicting** (`annotations`): `CLIENTS` annotators post `ANNOTATIONS`
   annotations (workload 3 of `python -m bench`) on a server with no job running, then again
   while a prediction job for all N tasks runs: annotations/s both ways, and how far the job
   got meanwhile.

LabelOps runs as in `python -m bench`'s PostgreSQL set-up (fresh databases on the test
PostgreSQL, Redis as the broker when `.testinfra/env` names one), with loopback model
servers allowed. Figures go to `bench/results/ml-<timestamp>.json`. Nothing here asserts: a
failed step is printed as FAILED with its reason.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from labelops_testing.ml_backends import RunningBackend, sentiment_texts, sklearn_backend

from bench import workloads
from bench.infra import (
    ROOT,
    Server,
    free_port,
    log,
    postgres_server,
    redis_broker_url,
    running_server,
    scratch_databases,
)
from bench.targets import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ADMIN_TOKEN,
    LABEL_CONFIG,
    SECRET_KEY,
    SERVICE_NAMES,
    Api,
    serve_command,
)

RESULTS = ROOT / "bench" / "results"
#: The broker database of this benchmark (`python -m bench` uses 7).
ML_BROKER_DATABASE = 9


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m bench.ml", description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--tasks", type=int, default=int(env("TASKS", "10000")), help="tasks to predict")
    add("--batch-sizes", default=env("BATCH_SIZES", "8,32,128"), help="tasks per /predict call")
    add("--concurrency", default=env("CONCURRENCY", "1,4"), help="/predict calls in flight")
    add("--backend-workers", type=int, default=int(env("BACKEND_WORKERS", "2")))
    add("--steps", default=env("STEPS", "direct,platform,annotations"))
    add("--annotations", type=int, default=int(env("ANNOTATIONS", "1000")))
    add("--clients", type=int, default=int(env("CLIENTS", "8")))
    add("--job-timeout", type=float, default=float(env("JOB_TIMEOUT", "1800")))
    add("--keep", default=env("KEEP", "0"), help="1 keeps the work dir (logs)")
    return parser.parse_args(argv)


def reviews(count: int, seed: int) -> list[tuple[str, str]]:
    """Made-up reviews labelled with the bench config's lower-case choices."""
    return [(text, label.lower()) for text, label in sentiment_texts(count, seed=seed)]


def pretrain(backend: RunningBackend, project_id: int) -> str:
    """The model is trained on 2,000 reviews before it is connected (its `/train` call)."""
    exported = [
        {
            "id": index,
            "data": {"text": text},
            "annotations": [
                {
                    "id": index,
                    "result": [
                        {
                            "from_name": "sentiment",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": [label]},
                        }
                    ],
                }
            ],
        }
        for index, (text, label) in enumerate(reviews(2000, seed=7), start=1)
    ]
    answer = httpx.post(
        f"{backend.url}/train",
        json={
            "annotations": exported,
            "project": f"{project_id}.0",
            "label_config": LABEL_CONFIG,
        },
        timeout=300,
    )
    answer.raise_for_status()
    return str(answer.json()["model_version"])


# --------------------------------------------------------------------------------------------
# 1. The model server alone


def run_direct(
    backend: RunningBackend, project_id: int, tasks: int, batch: int, concurrency: int
) -> dict[str, Any]:
    texts = [text for text, _ in reviews(tasks, seed=8)]
    batches = [
        [
            {"id": start + i, "data": {"text": text}}
            for i, text in enumerate(texts[start : start + batch])
        ]
        for start in range(0, len(texts), batch)
    ]
    local = threading.local()

    def send(chunk: list[dict[str, Any]]) -> int:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=backend.url, timeout=300)
        answer = client.post(
            "/predict",
            json={
                "tasks": chunk,
                "project": f"{project_id}.0",
                "label_config": LABEL_CONFIG,
                "params": {"login": None, "password": None, "context": None},
            },
        )
        answer.raise_for_status()
        return len(answer.json()["results"])

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        predicted = sum(pool.map(send, batches))
    seconds = time.monotonic() - started
    return {
        "batch_size": batch,
        "concurrency": concurrency,
        "tasks": predicted,
        "seconds": round(seconds, 2),
        "tasks_per_second": round(predicted / seconds, 1),
    }


# --------------------------------------------------------------------------------------------
# 2. and 3. Through LabelOps


@contextmanager
def labelops_server(
    urls: dict[str, str], work_dir: Path, *, batch: int, concurrency: int, name: str
) -> Iterator[Server]:
    """`labelops serve --target all` on the run's databases, with these ml-gateway settings."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LABELOPS_")},
        "LABELOPS_DATA_DIR": str(work_dir / "data"),
        "LABELOPS_SECRET_KEY": SECRET_KEY,
        "LABELOPS_ADMIN_EMAIL": ADMIN_EMAIL,
        "LABELOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LABELOPS_ADMIN_TOKEN": ADMIN_TOKEN,
        "LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
        "LABELOPS_ML_GATEWAY_PREDICT_BATCH_SIZE": str(batch),
        "LABELOPS_ML_GATEWAY_BACKEND_CONCURRENCY": str(concurrency),
    }
    for service, url in urls.items():
        env["LABELOPS_" + service.upper().replace("-", "_") + "_DATABASE_URL"] = url
    broker = redis_broker_url(database=ML_BROKER_DATABASE)
    if broker:
        env["LABELOPS_BROKER_URL"] = broker
    with running_server(
        name=f"LabelOps ({name})",
        command=serve_command("all", port),
        env=env,
        port=port,
        log_path=work_dir / f"labelops-{name}.log",
        health_path="/api/version",
        startup_seconds=300,
        cwd=ROOT,
        skip_root_rss=True,
    ) as server:
        yield server


def import_reviews(api: Api, project_id: int, count: int) -> None:
    body = json.dumps([{"text": text} for text, _ in reviews(count, seed=9)])
    with api.client(timeout=600) as http:
        answer = http.post(
            f"/api/projects/{project_id}/import",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        answer.raise_for_status()
        result = answer.json()
        import_id = result.get("import")
        while import_id is not None:
            status = http.get(f"/api/projects/{project_id}/imports/{import_id}").json()
            if status.get("status") == "completed":
                break
            if status.get("status") == "failed":
                raise RuntimeError(f"import failed: {status}")
            time.sleep(0.2)


def action(api: Api, project_id: int, action_id: str) -> dict[str, Any]:
    with api.client(timeout=600) as http:
        answer = http.post(
            "/api/dm/actions",
            params={"id": action_id, "project": project_id},
            json={"project": project_id, "selectedItems": {"all": True, "excluded": []}},
        )
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body


def job_of(api: Api, backend_id: int, job_id: int) -> dict[str, Any]:
    with api.client() as http:
        jobs = http.get(f"/api/ml/{backend_id}/jobs").json()
    return next(job for job in jobs if job["id"] == job_id)


def wait_job(api: Api, backend_id: int, job_id: int, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = job_of(api, backend_id, job_id)
        if job["status"] in {"succeeded", "failed", "cancelled"}:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job['status']} after {timeout:.0f}s: {job}")
        time.sleep(0.2)


def start_predictions(api: Api, project_id: int) -> tuple[int, int, float]:
    """Deletes the project's predictions, then "Retrieve predictions" for every task."""
    action(api, project_id, "delete_tasks_predictions")
    started = time.monotonic()
    answer = action(api, project_id, "retrieve_tasks_predictions")
    return int(answer["ml_backend"]), int(answer["job"]), started


def run_platform(api: Api, project_id: int, *, timeout: float) -> dict[str, Any]:
    backend_id, job_id, started = start_predictions(api, project_id)
    job = wait_job(api, backend_id, job_id, timeout)
    seconds = time.monotonic() - started
    return {
        "job": job_id,
        "status": job["status"],
        "total": job["total"],
        "predicted": job["predicted"],
        "failed": job["failed"],
        "error": job["error"],
        "seconds": round(seconds, 2),
        "tasks_per_second": round(job["predicted"] / seconds, 1) if seconds else None,
    }


def run_annotations_beside_job(
    api: Api, server: Server, project_id: int, task_ids: list[int], *, clients: int, timeout: float
) -> dict[str, Any]:
    half = len(task_ids) // 2
    quiet = workloads.run_annotations(api, server, task_ids[:half], clients=clients)
    backend_id, job_id, _ = start_predictions(api, project_id)
    # The job is under way (counting or predicting) before the annotators start.
    while job_of(api, backend_id, job_id)["status"] == "queued":
        time.sleep(0.1)
    at_start = job_of(api, backend_id, job_id)
    busy = workloads.run_annotations(api, server, task_ids[half:], clients=clients)
    at_end = job_of(api, backend_id, job_id)
    job = wait_job(api, backend_id, job_id, timeout)
    return {
        "without_job": quiet,
        "with_job": busy,
        "job_progress_at_start": at_start["progress"],
        "job_progress_at_end": at_end["progress"],
        "job_status_at_end": at_end["status"],
        "job": {k: job[k] for k in ("status", "total", "predicted", "failed")},
        "rate_ratio": (
            round(busy["per_second"] / quiet["per_second"], 2)
            if quiet.get("per_second") and busy.get("per_second")
            else None
        ),
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    steps = {step.strip() for step in args.steps.split(",") if step.strip()}
    batch_sizes, concurrencies = _ints(args.batch_sizes), _ints(args.concurrency)
    figures: dict[str, Any] = {
        "meta": {
            "tasks": args.tasks,
            "backend_workers": args.backend_workers,
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
        "direct": [],
        "platform": [],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"ml-{time.strftime('%Y%m%d-%H%M%S')}.json"
    work = Path(tempfile.mkdtemp(prefix="labelops-bench-ml-"))
    try:
        with ExitStack() as stack:
            backend = stack.enter_context(
                sklearn_backend(work / "backend", workers=args.backend_workers)
            )
            postgres = stack.enter_context(postgres_server())
            urls = stack.enter_context(scratch_databases(postgres, list(SERVICE_NAMES)))
            project_id = backend_id = 0
            task_ids: list[int] = []
            configs = [(b, c) for c in concurrencies for b in batch_sizes]
            if "platform" not in steps:
                configs = configs[:1] if "annotations" in steps else []
            for index, (batch, concurrency) in enumerate(configs or [(16, 4)]):
                name = f"batch{batch}-conc{concurrency}"
                with labelops_server(
                    urls, work, batch=batch, concurrency=concurrency, name=name
                ) as server:
                    api = Api(server.base_url)
                    if index == 0:
                        project_id = api.create_project("ML bench")
                        log(f"importing {args.tasks} tasks")
                        import_reviews(api, project_id, args.tasks)
                        version = pretrain(backend, project_id)
                        with api.client() as http:
                            connected = http.post(
                                "/api/ml",
                                json={"project": project_id, "url": backend.url, "title": "bench"},
                            )
                            connected.raise_for_status()
                            backend_id = connected.json()["id"]
                        task_ids = api.first_task_ids(project_id, args.annotations * 2)
                        log(f"backend {backend_id} connected, model {version}")
                        if "direct" in steps:
                            for b in batch_sizes:
                                for c in concurrencies:
                                    result = run_direct(backend, project_id, args.tasks, b, c)
                                    log(f"direct {result}")
                                    figures["direct"].append(result)
                    if "platform" in steps:
                        try:
                            result = run_platform(api, project_id, timeout=args.job_timeout)
                        except Exception as error:
                            result = {"FAILED": f"{type(error).__name__}: {error}"}
                        result.update(batch_size=batch, concurrency=concurrency)
                        log(f"platform {result}")
                        figures["platform"].append(result)
                    if "annotations" in steps and index == len(configs) - 1:
                        try:
                            figures["annotations"] = run_annotations_beside_job(
                                api,
                                server,
                                project_id,
                                task_ids,
                                clients=args.clients,
                                timeout=args.job_timeout,
                            )
                            figures["annotations"].update(batch_size=batch, concurrency=concurrency)
                        except Exception as error:
                            figures["annotations"] = {"FAILED": f"{type(error).__name__}: {error}"}
                        log(f"annotations {figures['annotations']}")
                out.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    except Exception:
        figures["FAILED"] = traceback.format_exc()
        log(f"FAILED:\n{figures['FAILED']}")
    finally:
        out.write_text(json.dumps(figures, indent=2, default=str) + "\n")
        if args.keep == "1":
            log(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(render(figures))
    print(f"\nfigures: {out.relative_to(ROOT)}")


def render(figures: dict[str, Any]) -> str:
    lines = [f"ML predictions, {figures['meta']['tasks']} tasks"]
    if figures["direct"]:
        lines.append("\nreference backend alone (/predict)")
        lines.append(f"{'batch':>6} {'callers':>8} {'tasks/s':>9}")
        for row in figures["direct"]:
            lines.append(
                f"{row['batch_size']:>6} {row['concurrency']:>8} {row['tasks_per_second']:>9}"
            )
    if figures["platform"]:
        lines.append("\nthrough LabelOps (Retrieve predictions, the whole project)")
        lines.append(f"{'batch':>6} {'concurrency':>12} {'tasks/s':>9} {'seconds':>8}")
        for row in figures["platform"]:
            rate = row.get("tasks_per_second", "FAILED")
            lines.append(
                f"{row['batch_size']:>6} {row['concurrency']:>12} {rate!s:>9} {row.get('seconds', '-')!s:>8}"
            )
    notes = figures.get("annotations")
    if isinstance(notes, dict) and "with_job" in notes:
        lines.append(
            "\nannotations/s: {} without a job, {} while a job predicts ({}x); the job went "
            "from {} to {} tasks meanwhile".format(
                notes["without_job"]["per_second"],
                notes["with_job"]["per_second"],
                notes["rate_ratio"],
                notes["job_progress_at_start"],
                notes["job_progress_at_end"],
            )
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()

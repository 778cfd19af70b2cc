"""A `labelops worker` on the `ml` queue killed with SIGKILL while a prediction job waits on
a slow model: the job's lease runs out, the worker's stale-job sweep sends it again, and the
redelivered job completes with exactly one prediction per task.

The job is made the way a person makes it ("Retrieve predictions" in the data manager). The
stack runs with a short job lease (`LABELOPS_JOB_LEASE_SECONDS`), so the dead worker's lease
runs out in seconds, not in the default minute.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from labelops_testing.ml_backend import ProtocolBackend, running_backend
from ml_gateway.predictions.models import PredictionJob
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from .conftest import Api, running_stack, stacks, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

TASKS = 12
BATCH = 2
#: Each `/predict` call takes this long: the job runs for TASKS / BATCH of them.
PREDICT_SECONDS = 1.0
LEASE_SECONDS = 3.0
ENV = {
    "LABELOPS_ML_GATEWAY_PREDICT_BATCH_SIZE": str(BATCH),
    # One batch at a time, so that the kill lands between stored batches.
    "LABELOPS_ML_GATEWAY_BACKEND_CONCURRENCY": "1",
    "LABELOPS_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
    "LABELOPS_JOB_SWEEP_INTERVAL_SECONDS": "1",
    "LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
}


@dataclass
class World:
    api: Api
    backend: ProtocolBackend


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    queues = tuple(q for q in stacks.WORKER_QUEUES if q != "ml")
    with (
        running_backend(predict_delay_seconds=PREDICT_SECONDS) as backend,
        running_stack(
            tmp_path_factory.mktemp("prediction-killed"), extra_env=ENV, worker_queues=queues
        ) as stack,
    ):
        yield World(api=Api(stack), backend=backend)


def job_row(api: Api, job_id: int) -> dict[str, Any]:
    engine = create_engine(api.stack.common_env["LABELOPS_ML_GATEWAY_DATABASE_URL"])
    try:
        with Session(engine) as session:
            job = session.get(PredictionJob, job_id)
            assert job is not None
            return {
                "status": job.status,
                "attempts": job.attempts,
                "lease_owner": job.lease_owner or "",
                "predicted": job.predicted,
                "skipped": job.skipped,
                "failed": job.failed,
            }
    finally:
        engine.dispose()


def test_a_prediction_job_survives_its_worker_killed(world: World) -> None:
    api, backend = world.api, world.backend
    project_id = api.project("Predictions")
    task_ids = api.tasks(project_id, [f"good {n}" if n % 2 else f"bad {n}" for n in range(TASKS)])
    connected = api.call(
        "ml-gateway",
        "POST",
        "/api/ml",
        json={"url": backend.url, "project": project_id, "title": "slow keywords"},
    )
    assert connected.status_code == 201, connected.text
    started = api.call(
        "task-svc",
        "POST",
        f"/api/dm/actions?project={project_id}&id=retrieve_tasks_predictions",
        json={"selectedItems": {"all": True, "excluded": []}},
    )
    assert started.status_code == 200, started.text
    job_id = started.json()["job"]

    first = stacks.start_worker(api.stack, "ml-worker", ("ml",), concurrency=1, pool="solo")
    second = None
    try:
        wait_for(lambda: len(predictions(api, project_id)) >= BATCH, 60, "predictions began", first)
        running = job_row(api, job_id)
        assert running["status"] == "running" and running["attempts"] == 1
        assert f":{first.process.pid}:" in running["lease_owner"]
        first.process.send_signal(signal.SIGKILL)
        assert first.process.wait(10) == -signal.SIGKILL
        stored_at_kill = len(predictions(api, project_id))
        assert 0 < stored_at_kill < TASKS

        second = stacks.relaunch(api.stack, first)
        wait_for(
            lambda: job_row(api, job_id)["status"] not in ("queued", "running"),
            90,
            "the redelivered prediction job did not finish",
            second,
        )
    finally:
        for worker in (first, second):
            if worker is not None and worker.process.poll() is None:
                worker.process.terminate()
                worker.process.wait(30)

    done = job_row(api, job_id)
    assert done["status"] == "succeeded", (done, second.log()[-3000:] if second else "")
    assert done["attempts"] == 2 and f":{first.process.pid}:" not in done["lease_owner"]
    # The second run predicted what the first had not stored, and skipped the rest.
    assert done["predicted"] + done["skipped"] == TASKS and done["failed"] == 0
    stored = predictions(api, project_id)
    assert Counter(p["task"] for p in stored) == dict.fromkeys(task_ids, 1)
    assert {p["model_version"] for p in stored} == {backend.model_version}
    print(
        f"stored at kill: {stored_at_kill}/{TASKS}; /predict calls: "
        f"{len(backend.calls('/predict'))}; second run: {done}"
    )


def predictions(api: Api, project_id: int) -> list[dict[str, Any]]:
    answer = api.call("task-svc", "GET", f"/api/predictions?project={project_id}")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found

"""A backend that hangs, fails, answers garbage or results that do not fit the config:
the job reports it, nothing invalid is stored, the backend shows the error, and the rest
of the platform keeps answering at its usual speed."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from labelops_testing.ml_backend import Behaviour, running_backend
from ml_gateway.predictions.service import JobTally
from prometheus_client import REGISTRY

from .conftest import World

#: What "its usual latency" means here: these reads take milliseconds on a quiet stack.
PROMPT_SECONDS = 1.5


def _timed(call: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    status = call()
    return status, time.perf_counter() - started


def _others_answer_promptly(world: World) -> None:
    """Reads of every service the job touches, timed while the backend misbehaves."""
    headers = world.cast.owner.headers
    stack = world.stack
    checks = {
        "ml list": lambda: stack.ml.get(f"/api/ml?project={world.project}", headers=headers),
        "tasks": lambda: stack.task.get(f"/api/tasks?project={world.project}", headers=headers),
        "project": lambda: stack.project.get(f"/api/projects/{world.project}", headers=headers),
    }
    for name, call in checks.items():
        status, seconds = _timed(lambda call=call: call().status_code)
        assert status == 200, name
        assert seconds < PROMPT_SECONDS, f"{name} took {seconds:.2f} s"


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        (Behaviour.HANG, "/predict did not answer within 1 s"),
        (Behaviour.ERROR_500, "/predict answered 500: model crashed: CUDA out of memory"),
        (Behaviour.MALFORMED_JSON, "/predict answered 200 with a body that is not JSON"),
        (Behaviour.MISFIT_RESULTS, "does not fit the labeling config: result[0].value.choices"),
    ],
)
def test_a_failing_backend_is_reported_and_nothing_invalid_is_stored(
    world: World, behaviour: Behaviour, reason: str
) -> None:
    ids = world.tasks("good", "bad", "good news")
    with running_backend(behaviour=behaviour, hang_seconds=10) as server:
        connected = world.connect(server, timeout=1)
        answer = world.retrieve()
        if behaviour == Behaviour.HANG:
            # While the job waits on the hung backend, the platform answers as usual.
            time.sleep(0.3)
            _others_answer_promptly(world)
        job = world.wait_job(answer["job"])
    assert job.status == "failed"
    assert (job.predicted, job.failed) == (0, len(ids))
    assert reason in (job.last_error or "") and reason in (job.error or "")
    assert world.predictions() == []
    row = world.backend_row(connected["id"])
    assert row.state == "ER" and reason in (row.error_message or "")
    shown = world.stack.ml.get(f"/api/ml/{connected['id']}", headers=world.cast.owner.headers)
    assert shown.json()["state"] == "ER" and reason in shown.json()["error_message"]
    jobs = world.stack.ml.get(f"/api/ml/{connected['id']}/jobs", headers=world.cast.owner.headers)
    assert jobs.status_code == 200
    assert jobs.json()[0]["status"] == "failed" and reason in jobs.json()[0]["error"]


def test_results_that_do_not_fit_fail_only_their_tasks(world: World) -> None:
    ids = world.tasks("good", "furious customer", "bad")
    with running_backend(misfit_word="furious") as server:
        world.connect(server)
        job = world.wait_job(world.retrieve()["job"])
    assert (job.status, job.predicted, job.failed) == ("succeeded", 2, 1)
    assert f"task {ids[1]}: does not fit the labeling config" in (job.last_error or "")
    assert [p.task_id for p in world.predictions()] == [ids[0], ids[2]]


def test_a_transient_failure_is_retried(world: World) -> None:
    world.tasks("good")
    with running_backend(behaviour=Behaviour.ERROR_500, fail_first=1) as server:
        world.connect(server)
        job = world.wait_job(world.retrieve()["job"])
    assert (job.status, job.predicted, job.failed) == ("succeeded", 1, 0)
    assert len(server.calls("/predict")) == 2


def test_the_circuit_opens_and_calls_stop(world: World) -> None:
    world.tasks(*[f"text {n}" for n in range(10)])  # 5 batches of 2
    with running_backend(behaviour=Behaviour.ERROR_500) as server:
        connected = world.connect(server, is_interactive=True)
        job = world.wait_job(world.retrieve()["job"])
        calls = len(server.calls("/predict"))
        # With 2 attempts per batch, 10 calls would be made without a breaker. It opens
        # after 3 failures; calls already in flight then (up to the 4 call slots) still
        # land, so at most 3 - 1 + 4 are made, and the rest fail without a connection.
        assert calls <= 6
        # The job says why the circuit opened, not only that it is open.
        assert job.failed == 10 and "/predict answered 500" in (job.last_error or "")
        # While it is open, a new job makes no call at all.
        again = world.wait_job(world.retrieve()["job"])
        assert again.failed == 10 and len(server.calls("/predict")) == calls
        assert "circuit open" in (again.last_error or "")
        assert (
            REGISTRY.get_sample_value(
                "labelops_ml_circuit_state", {"backend": str(connected["id"])}
            )
            == 1
        )
        # A person's interactive call is answered at once, with the reason.
        task = world.tasks("good")[0]
        status, seconds = _timed(
            lambda: (
                world.stack.ml.post(
                    f"/api/ml/{connected['id']}/interactive-annotating",
                    json={"task": task, "context": {}},
                    headers=world.cast.annotator.headers,
                ).status_code
            )
        )
        answer = world.stack.ml.post(
            f"/api/ml/{connected['id']}/interactive-annotating",
            json={"task": task, "context": {}},
            headers=world.cast.annotator.headers,
        )
        assert status == 200 and seconds < PROMPT_SECONDS
        assert "circuit open" in answer.json()["errors"][0]
        assert len(server.calls("/predict")) == calls
    errors = REGISTRY.get_sample_value(
        "labelops_ml_predict_errors_total", {"backend": str(connected["id"])}
    )
    assert errors is not None and errors >= 10


@pytest.mark.parametrize("circuit_first", [False, True], ids=["failure_first", "refusal_first"])
def test_a_circuit_refusal_does_not_replace_the_failure_that_opened_it(circuit_first: bool) -> None:
    """Batches run side by side: the circuit's refusal of one can be counted before or
    after the backend's failure in another. Either way the job keeps the failure."""
    failure = "/predict answered 500: model crashed"
    refusal = "circuit open after 3 consecutive failures; retrying after 60 s"
    tally = JobTally()
    steps = [(refusal, True), (failure, False)]
    for error, circuit_open in steps if circuit_first else reversed(steps):
        tally.add(failed=2, error=error, circuit_open=circuit_open)
    assert (tally.failed, tally.last_error) == (4, failure)
    alone = JobTally()
    alone.add(failed=2, error=refusal, circuit_open=True)
    assert alone.last_error == refusal

"""Active learning: the label stream serves the task the current model is least sure of,
and a training that changes the model version has every score renewed."""

from __future__ import annotations

import time

from labelops_testing.ml_backend import ProtocolBackend

from .conftest import World

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices",
     "value": {"choices": ["Positive"]}}
]  # fmt: skip


def _project(world: World, **fields: object) -> None:
    answer = world.stack.project.patch(
        f"/api/projects/{world.project}", json=fields, headers=world.cast.owner.headers
    )
    assert answer.status_code == 200, answer.text
    for runtime in (world.stack.task_runtime, world.stack.ml_runtime):
        runtime.http_app.state.project_directory.forget(world.project)


def test_uncertainty_sampling_uses_the_current_model_version(
    world: World, backend: ProtocolBackend
) -> None:
    confident, unsure, stale = world.tasks("good", "bad", "good day")
    # An older model was very unsure about `stale`: that must not count any more.
    old = world.stack.task.post(
        "/api/predictions",
        json={"task": stale, "result": CHOICE, "score": 0.1, "model_version": "keyword-0"},
        headers=world.cast.owner.headers,
    )
    assert old.status_code == 201, old.text
    world.connect(backend)
    world.wait_job(world.retrieve()["job"])
    _project(world, sampling="Uncertainty sampling", model_version="keyword-1")
    answer = world.stack.task.get(
        f"/api/projects/{world.project}/next", headers=world.cast.annotator.headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == unsure  # 0.6 with keyword-1; `stale` is 0.9 with it
    assert answer.json()["queue"] == "Active learning or random queue"
    assert confident != unsure


def test_a_new_model_version_renews_the_scores(world: World, backend: ProtocolBackend) -> None:
    ids = world.tasks("good", "bad")
    connected = world.connect(backend)
    world.wait_job(world.retrieve()["job"])
    _project(world, sampling="Uncertainty sampling")
    backend.model_version = "keyword-2"
    world.stack.ml.post(f"/api/ml/{connected['id']}/train", headers=world.cast.owner.headers)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        versions = {(p.task_id, p.model_version) for p in world.predictions()}
        if {(i, "keyword-2") for i in ids} <= versions:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"scores were not renewed: {versions}")
    assert world.backend_row(connected["id"]).model_version == "keyword-2"

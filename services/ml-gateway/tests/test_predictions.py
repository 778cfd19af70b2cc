"""Retrieve predictions: the data manager action queues a job in ml-gateway, which sends
the tasks in batches to a real protocol server and stores the predictions in task-svc."""

from __future__ import annotations

import pytest
from labelops_testing.ml_backend import ProtocolBackend

from .conftest import World


def test_retrieve_predictions_for_the_whole_project(world: World, backend: ProtocolBackend) -> None:
    ids = world.tasks("a good day", "a bad day", "good news", "rain", "so good")
    connected = world.connect(backend)
    assert connected["state"] == "CO" and connected["model_version"] == "keyword-1"

    answer = world.retrieve()
    assert answer["processed_items"] == 5 and answer["ml_backend"] == connected["id"]
    job = world.wait_job(answer["job"])
    assert (job.status, job.total, job.predicted, job.skipped, job.failed) == (
        "succeeded",
        5,
        5,
        0,
        0,
    )
    stored = world.predictions()
    assert [p.task_id for p in stored] == ids
    assert [p.result[0]["value"]["choices"] for p in stored] == [
        ["Positive"],
        ["Negative"],
        ["Positive"],
        ["Negative"],
        ["Positive"],
    ]
    assert {p.model_version for p in stored} == {"keyword-1"}
    assert [p.score for p in stored] == pytest.approx([0.9, 0.6, 0.9, 0.6, 0.9])
    # Batches of `predict_batch_size` (2), in the protocol's shape.
    calls = backend.calls("/predict")
    assert sorted(len(call.body["tasks"]) for call in calls) == [1, 2, 2]
    first = calls[0].body
    assert first["label_config"].startswith("<View>")
    assert first["project"].startswith(f"{world.project}.")
    assert set(first["tasks"][0]) >= {"id", "data", "meta", "project", "annotations", "predictions"}
    assert first["params"] == {"login": None, "password": None, "context": None}
    # task-svc's counters follow.
    task = world.stack.task.get(f"/api/tasks/{ids[0]}", headers=world.cast.owner.headers).json()
    assert task["total_predictions"] == 1


def test_a_second_run_skips_tasks_already_predicted(world: World, backend: ProtocolBackend) -> None:
    ids = world.tasks("good", "bad", "good")
    world.connect(backend)
    first = world.wait_job(world.retrieve({"all": False, "included": [ids[0]]})["job"])
    assert first.predicted == 1
    second = world.wait_job(world.retrieve()["job"])
    assert (second.predicted, second.skipped) == (2, 1)
    assert sorted(backend.predicted_task_ids()) == sorted(ids)
    assert len(world.predictions()) == 3


def test_tasks_the_backend_has_nothing_for_are_skipped_not_failed(
    world: World, backend: ProtocolBackend
) -> None:
    """An untrained model answers entries without a result: no prediction, no failure, and
    the backend is not marked as failing (as in Label Studio)."""
    backend.silent_word = "unsure"
    world.tasks("good", "unsure", "bad")
    connected = world.connect(backend)
    job = world.wait_job(world.retrieve()["job"])
    assert (job.status, job.predicted, job.skipped, job.failed) == ("succeeded", 2, 1, 0)
    assert len(world.predictions()) == 2
    assert world.backend_row(connected["id"]).state == "CO"


def test_no_backend_connected_is_a_clear_400(world: World) -> None:
    world.tasks("good")
    answer = world.stack.task.post(
        f"/api/dm/actions?project={world.project}&id=retrieve_tasks_predictions",
        json={"selectedItems": {"all": True, "excluded": []}},
        headers=world.cast.owner.headers,
    )
    assert answer.status_code == 400
    assert answer.json()["detail"] == "No ML backend is connected to this project."

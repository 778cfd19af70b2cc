"""Training: `POST /api/ml/{id}/train` sends START_TRAINING to `/webhook` as a job, and a
project that trains on annotations sends every N-th annotation event."""

from __future__ import annotations

import time
import uuid
from typing import Any

from labelops_common.events import ANNOTATION_CREATED, Event, handlers_for
from labelops_testing.ml_backend import Behaviour, ProtocolBackend, running_backend
from ml_gateway.training.models import TrainJob
from sqlalchemy import select

from .conftest import World


def _wait_train(world: World, backend_id: int, count: int = 1) -> list[TrainJob]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with world.stack.ml_runtime.database.session() as session:
            jobs = list(
                session.scalars(
                    select(TrainJob)
                    .where(TrainJob.ml_backend_id == backend_id)
                    .order_by(TrainJob.id)
                )
            )
            if len(jobs) >= count and all(j.status in ("succeeded", "failed") for j in jobs):
                session.expunge_all()
                return jobs
        time.sleep(0.05)
    raise AssertionError("training jobs did not finish")


def test_train_sends_start_training_and_shows_the_job(
    world: World, backend: ProtocolBackend
) -> None:
    connected = world.connect(backend)
    answer = world.stack.ml.post(
        f"/api/ml/{connected['id']}/train", headers=world.cast.owner.headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["action"] == "START_TRAINING" and answer.json()["status"] == "queued"
    (job,) = _wait_train(world, connected["id"])
    assert job.status == "succeeded" and job.response == {
        "result": {"model_version": "keyword-1"},
        "status": "ok",
    }
    sent = backend.calls("/webhook")[0].body
    assert sent["action"] == "START_TRAINING" and sent["project"]["id"] == world.project
    assert "label_config" in sent["project"]
    assert world.backend_row(connected["id"]).state == "CO"
    listed = world.stack.ml.get(
        f"/api/ml/{connected['id']}/train-jobs", headers=world.cast.annotator.headers
    )
    assert [j["status"] for j in listed.json()] == ["succeeded"]
    # Annotators may not start training.
    refused = world.stack.ml.post(
        f"/api/ml/{connected['id']}/train", headers=world.cast.annotator.headers
    )
    assert refused.status_code == 403


def test_a_backend_without_webhook_gets_the_legacy_train(world: World) -> None:
    ids = world.tasks("good")
    world.stack.task.post(
        f"/api/tasks/{ids[0]}/annotations",
        json={"result": [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                          "value": {"choices": ["Positive"]}}]},
        headers=world.cast.owner.headers,
    )  # fmt: skip
    with running_backend() as server:
        connected = world.connect(server)
        server.faulty_paths = ("/webhook",)
        server.behaviour = Behaviour.NOT_FOUND
        world.stack.ml.post(f"/api/ml/{connected['id']}/train", headers=world.cast.owner.headers)
        (job,) = _wait_train(world, connected["id"])
    assert job.status == "succeeded" and job.response == {"job": "train-1"}
    legacy = server.calls("/train")[0].body
    assert [t["id"] for t in legacy["annotations"]] == ids
    assert legacy["annotations"][0]["annotations"][0]["result"][0]["value"]["choices"] == [
        "Positive"
    ]


def test_a_failed_training_shows_on_the_backend(world: World) -> None:
    with running_backend(behaviour=Behaviour.ERROR_500, faulty_paths=("/webhook",)) as server:
        connected = world.connect(server)
        world.stack.ml.post(f"/api/ml/{connected['id']}/train", headers=world.cast.owner.headers)
        (job,) = _wait_train(world, connected["id"])
    assert job.status == "failed" and "/webhook answered 500" in (job.error or "")
    row = world.backend_row(connected["id"])
    assert row.state == "ER" and "Training failed" in (row.error_message or "")


def _annotation_event(world: World, task_id: int, annotation_id: int) -> Event:
    return Event(
        id=uuid.uuid4().hex,
        name=ANNOTATION_CREATED,
        project_id=world.project,
        payload={"annotation_id": annotation_id, "task_id": task_id, "project_id": world.project},
        occurred_at="2026-12-05T12:00:00+00:00",
    )


def test_every_nth_annotation_trains_when_the_project_asks(
    world: World, backend: ProtocolBackend
) -> None:
    ids = world.tasks("good", "bad", "good", "bad")
    connected = world.connect(backend)
    handler = handlers_for(ANNOTATION_CREATED)["ml_gateway.training.jobs.train_on_annotations"]

    def annotate(task_id: int) -> Event:
        answer = world.stack.task.post(
            f"/api/tasks/{task_id}/annotations",
            json={"result": [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                              "value": {"choices": ["Positive"]}}]},
            headers=world.cast.owner.headers,
        )  # fmt: skip
        assert answer.status_code == 201
        return _annotation_event(world, task_id, answer.json()["id"])

    # The project does not ask: nothing is sent.
    handler(annotate(ids[0]))
    assert backend.calls("/webhook") == []
    patched = world.stack.project.patch(
        f"/api/projects/{world.project}",
        json={"min_annotations_to_start_training": 2},
        headers=world.cast.owner.headers,
    )
    assert patched.status_code == 200
    world.stack.ml_runtime.http_app.state.project_directory.forget(world.project)
    handler(annotate(ids[1]))
    assert backend.calls("/webhook") == []
    second = annotate(ids[2])
    handler(second)
    handler(second)  # a redelivered event is applied once
    (job,) = _wait_train(world, connected["id"])
    assert job.status == "succeeded" and job.action == ANNOTATION_CREATED
    (call,) = backend.calls("/webhook")
    body: dict[str, Any] = call.body
    assert body["action"] == ANNOTATION_CREATED and body["task"]["id"] == ids[2]
    assert body["annotation"]["result"][0]["value"]["choices"] == ["Positive"]
    assert body["task"]["data"] == {"text": "good"}

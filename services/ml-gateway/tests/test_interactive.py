"""Calls a person waits on: a pre-label for the task the label stream hands out, and
interactive labeling passed through, each within a short timeout."""

from __future__ import annotations

import time

from labelops_testing.ml_backend import Behaviour, ProtocolBackend, running_backend

from .conftest import World


def _next(world: World) -> tuple[dict[str, object], float]:
    started = time.perf_counter()
    answer = world.stack.task.get(
        f"/api/projects/{world.project}/next", headers=world.cast.annotator.headers
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body, time.perf_counter() - started


def test_the_label_stream_pre_labels_the_next_task(world: World, backend: ProtocolBackend) -> None:
    ids = world.tasks("good morning", "bad weather")
    world.connect(backend)
    task, _ = _next(world)
    assert task["id"] == ids[0]
    predictions = task["predictions"]
    assert isinstance(predictions, list) and len(predictions) == 1
    assert predictions[0]["model_version"] == "keyword-1"
    assert predictions[0]["result"][0]["value"]["choices"] == ["Positive"]
    assert backend.predicted_task_ids() == [ids[0]]
    # Stored in task-svc: asking again (the same held task) calls no model.
    again, _ = _next(world)
    assert again["id"] == ids[0] and len(again["predictions"]) == 1  # type: ignore[arg-type]
    assert backend.predicted_task_ids() == [ids[0]]
    assert [p.task_id for p in world.predictions()] == [ids[0]]


def test_a_hanging_backend_delays_the_label_stream_only_briefly(world: World) -> None:
    world.tasks("good", "bad")
    with running_backend(behaviour=Behaviour.HANG, hang_seconds=10) as server:
        world.connect(server)
        task, seconds = _next(world)
        assert task["predictions"] == []
        # The interactive timeout (1 s here) and the pre-label deadline (2 s) bound the wait;
        # the backend would hang for 10 s.
        assert seconds < 3.0
    assert world.predictions() == []


def test_without_a_backend_the_label_stream_is_not_slowed(world: World) -> None:
    world.tasks("good")
    task, seconds = _next(world)
    assert task["predictions"] == [] and seconds < 1.0


def test_interactive_annotating_passes_through(world: World, backend: ProtocolBackend) -> None:
    ids = world.tasks("good vibes")
    connected = world.connect(backend, is_interactive=True)
    context = {"result": [{"type": "keypointlabels", "value": {"x": 10, "y": 20}}]}
    answer = world.stack.ml.post(
        f"/api/ml/{connected['id']}/interactive-annotating",
        json={"task": ids[0], "context": context},
        headers=world.cast.annotator.headers,
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["result"][0]["value"]["choices"] == ["Positive"] and data["score"] == 0.9
    sent = backend.calls("/predict")[-1].body
    assert sent["params"]["context"] == context and sent["tasks"][0]["id"] == ids[0]
    # Nothing is stored: the editor shows it as a suggestion.
    assert world.predictions() == []
    # A backend not marked interactive, and a task of another project, are refused.
    other = world.connect(backend)
    refused = world.stack.ml.post(
        f"/api/ml/{other['id']}/interactive-annotating",
        json={"task": ids[0]},
        headers=world.cast.annotator.headers,
    )
    assert refused.status_code == 400 and "is_interactive" in refused.json()["validation_errors"]
    missing = world.stack.ml.post(
        f"/api/ml/{connected['id']}/interactive-annotating",
        json={"task": 999_999_999},
        headers=world.cast.annotator.headers,
    )
    assert missing.status_code == 404
    outsider = world.stack.ml.post(
        f"/api/ml/{connected['id']}/interactive-annotating",
        json={"task": ids[0]},
        headers=world.cast.outsider.headers,
    )
    assert outsider.status_code == 404


def test_interactive_answers_that_do_not_fit_are_errors(world: World) -> None:
    ids = world.tasks("good")
    with running_backend(behaviour=Behaviour.MISFIT_RESULTS) as server:
        connected = world.connect(server, is_interactive=True)
        answer = world.stack.ml.post(
            f"/api/ml/{connected['id']}/interactive-annotating",
            json={"task": ids[0]},
            headers=world.cast.annotator.headers,
        )
    assert answer.status_code == 200
    assert "does not fit the labeling config" in answer.json()["errors"][0]


def test_predict_test_on_a_random_task(world: World, backend: ProtocolBackend) -> None:
    world.tasks("good")
    connected = world.connect(backend)
    path = f"/api/ml/{connected['id']}/predict/test"
    answer = world.stack.ml.post(path + "?random=true", headers=world.cast.owner.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["model_version"] == "keyword-1"
    assert world.stack.ml.post(path, headers=world.cast.owner.headers).status_code == 501
    with running_backend(behaviour=Behaviour.ERROR_500) as broken:
        bad = world.connect(broken)
        failed = world.stack.ml.post(
            f"/api/ml/{bad['id']}/predict/test?random=true", headers=world.cast.owner.headers
        )
    assert failed.status_code == 500 and "answered 500" in failed.json()["detail"]

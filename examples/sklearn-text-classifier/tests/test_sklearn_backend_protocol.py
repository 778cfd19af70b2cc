"""The reference backend as a real server (its own venv and process, as its README runs it),
spoken to in Label Studio's ML-backend protocol, call by call."""

from __future__ import annotations

import base64
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from labelops_testing.ml_backends import (
    SENTIMENT_CONFIG,
    RunningBackend,
    choice_annotation,
    sentiment_texts,
    sklearn_backend,
)

PROJECT = "41.1764950400"
TOKEN = "fedcba9876543210fedcba9876543210fedcba98"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBackend]:
    with sklearn_backend(tmp_path_factory.mktemp("sklearn-backend")) as running:
        yield running


@pytest.fixture()
def client(backend: RunningBackend) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=backend.url, timeout=30) as client:
        yield client


def exported(reviews: list[tuple[str, str]], first_id: int) -> list[dict[str, Any]]:
    """Tasks as the platform's JSON export has them, each with one annotation."""
    return [
        {
            "id": first_id + index,
            "data": {"text": text},
            "annotations": [choice_annotation(first_id + index, label)],
        }
        for index, (text, label) in enumerate(reviews)
    ]


def predict(client: httpx.Client, project: str, texts: list[str]) -> dict[str, Any]:
    response = client.post(
        "/predict",
        json={
            "tasks": [{"id": i, "data": {"text": text}} for i, text in enumerate(texts)],
            "project": project,
            "label_config": SENTIMENT_CONFIG,
            "params": {"login": None, "password": None, "context": None},
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_health_names_the_model(client: httpx.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "UP", "model_class": "TfidfLogisticRegression"}


def test_setup_keeps_the_token_private_and_refuses_a_config_it_cannot_serve(
    client: httpx.Client, backend: RunningBackend
) -> None:
    setup = {
        "project": PROJECT,
        "schema": SENTIMENT_CONFIG,
        "hostname": "http://127.0.0.1:1",
        "access_token": TOKEN,
        "extra_params": None,
    }
    response = client.post("/setup", json=setup)
    assert response.status_code == 200, response.text
    assert response.json() == {"model_version": ""}
    saved = Path(backend.log_path.parent / "models" / "41" / "setup.json")
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert TOKEN not in backend.log()

    image_config = '<View><Image name="img" value="$image"/><RectangleLabels name="box" toName="img"><Label value="Car"/></RectangleLabels></View>'
    refused = client.post("/setup", json={**setup, "schema": image_config})
    assert refused.status_code == 400
    assert "no <Choices>" in refused.json()["error"]


def test_untrained_model_answers_no_prediction_for_each_task(client: httpx.Client) -> None:
    body = predict(client, "42.1764950400", ["one", "two", "three"])
    assert body["results"] == [[], [], []]


def test_annotation_events_train_versions_and_predictions_follow(client: httpx.Client) -> None:
    project = {"id": 43, "label_config": SENTIMENT_CONFIG}

    def event(action: str, task_id: int, text: str, label: str) -> httpx.Response:
        return client.post(
            "/webhook",
            json={
                "action": action,
                "project": project,
                "task": {"id": task_id, "data": {"text": text}},
                "annotation": choice_annotation(1000 + task_id, label),
            },
        )

    first = event("ANNOTATION_CREATED", 1, "a wonderful delightful film", "Positive")
    assert first.status_code == 201
    assert first.json()["result"]["trained"] is False  # one class only so far
    second = event("ANNOTATION_CREATED", 2, "a dreadful tedious film", "Negative")
    assert second.status_code == 201
    assert second.json()["result"] == {
        "trained": True,
        "model_version": "tfidf-logreg-v1",
        "examples": 2,
    }

    body = predict(client, "43.1764950400", ["wonderful", "tedious"])
    assert [r["result"][0]["value"]["choices"] for r in body["results"]] == [
        ["Positive"],
        ["Negative"],
    ]
    assert all(0.5 < r["score"] <= 1 for r in body["results"])
    assert {r["model_version"] for r in body["results"]} == {"tfidf-logreg-v1"}
    region = body["results"][0]["result"][0]
    assert (region["from_name"], region["to_name"], region["type"]) == (
        "sentiment",
        "text",
        "choices",
    )

    # A task without the text field gets no prediction, in its place.
    mixed = client.post(
        "/predict",
        json={
            "tasks": [
                {"id": 1, "data": {"title": "no text"}},
                {"id": 2, "data": {"text": "tedious"}},
            ],
            "project": "43.1764950400",
            "label_config": SENTIMENT_CONFIG,
        },
    ).json()["results"]
    assert mixed[0] == []
    assert mixed[1]["result"][0]["value"] == {"choices": ["Negative"]}

    # An annotator changes their mind: the model follows, under a new version.
    changed = event("ANNOTATION_UPDATED", 1, "a wonderful delightful film", "Negative")
    assert changed.json()["result"]["trained"] is False  # both examples now say Negative
    assert "1 distinct choice" in changed.json()["result"]["reason"]
    versions = client.get("/versions", params={"project": "43.1764950400"})
    assert versions.json() == {"versions": ["tfidf-logreg-v1"]}

    unknown = client.post("/webhook", json={"action": "PROJECT_UPDATED", "project": project})
    assert (unknown.status_code, unknown.json()) == (200, {"status": "Unknown event"})


def test_legacy_train_learns_a_model_that_generalises(client: httpx.Client) -> None:
    training = sentiment_texts(400, seed=1)
    held_out = sentiment_texts(200, seed=2)
    response = client.post(
        "/train",
        json={
            "annotations": exported(training, first_id=1),
            "project": "44.1764950400",
            "label_config": SENTIMENT_CONFIG,
            "params": {"login": None, "password": None},
        },
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"job": "tfidf-logreg-v1", "model_version": "tfidf-logreg-v1"}

    body = predict(client, "44.1764950400", [text for text, _ in held_out])
    predicted = [r["result"][0]["value"]["choices"][0] for r in body["results"]]
    accuracy = sum(p == label for p, (_, label) in zip(predicted, held_out, strict=True)) / len(
        held_out
    )
    assert accuracy >= 0.9
    assert len(body["results"]) == len(held_out)


def test_deleting_annotations_retrains_without_them(client: httpx.Client) -> None:
    project = {"id": 45, "label_config": SENTIMENT_CONFIG}
    tasks = exported(
        [("superb lovely", "Positive"), ("awful dull", "Negative"), ("excellent", "Positive")], 1
    )
    created = client.post(
        "/webhook",
        json={
            "action": "ANNOTATIONS_CREATED",
            "project": project,
            "task": [{"id": t["id"], "data": t["data"]} for t in tasks],
            "annotation": [t["annotations"][0] for t in tasks],
        },
    )
    assert created.status_code == 201
    assert created.json()["result"]["examples"] == 3
    deleted = client.post(
        "/webhook",
        json={"action": "ANNOTATIONS_DELETED", "project": project, "annotations": [{"id": 3}]},
    )
    assert deleted.json()["result"] == {
        "trained": True,
        "model_version": "tfidf-logreg-v2",
        "examples": 2,
    }
    assert client.post("/versions", json={"project": "45.1"}).json() == {
        "versions": ["tfidf-logreg-v1", "tfidf-logreg-v2"]
    }


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/predict", b"{not json", "the body must be a JSON object"),
        (
            "/predict",
            b'{"tasks": "all", "project": "46.1"}',
            "`tasks` must be a list of task objects",
        ),
        ("/predict", b'{"tasks": []}', "the request names no project"),
        (
            "/train",
            b'{"annotations": {}, "project": "46.1"}',
            "`annotations` must be a list of exported tasks",
        ),
        ("/setup", b'{"project": "46.1", "schema": "<View"}', "the labeling config is not XML"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(
    client: httpx.Client, path: str, body: bytes, reason: str
) -> None:
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"].startswith(reason)


def test_basic_auth_and_workers_sharing_one_model(tmp_path: Path) -> None:
    """With BASIC_AUTH_USER/PASS every call needs them; with --workers 2 a model trained in
    one process is the one every process predicts with."""
    env = {"BASIC_AUTH_USER": "ml", "BASIC_AUTH_PASS": "s3cret-pass"}
    with sklearn_backend(tmp_path, workers=2, env=env) as running:
        assert httpx.post(f"{running.url}/predict", json={}).status_code == 401
        auth = "Basic " + base64.b64encode(b"ml:s3cret-pass").decode()
        with httpx.Client(base_url=running.url, headers={"Authorization": auth}) as client:
            trained = client.post(
                "/train",
                json={
                    "annotations": exported(sentiment_texts(40, seed=3), 1),
                    "project": "47.1",
                    "label_config": SENTIMENT_CONFIG,
                },
            )
            assert trained.status_code == 201
            versions = {predict(client, "47.1", ["superb"])["model_version"] for _ in range(20)}
            assert versions == {"tfidf-logreg-v1"}

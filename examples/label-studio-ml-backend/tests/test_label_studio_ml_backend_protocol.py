"""A model on `label-studio-ml` (PyPI, unmodified), served by the package's own server: what
it answers to each protocol call, so the platform's side can be checked against code that
was not written here (its quirks included: `model_version` is a number after training)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from labelops_testing.ml_backends import (
    SENTIMENT_CONFIG,
    RunningBackend,
    choice_annotation,
    label_studio_ml_backend,
)

PROJECT = "51.1764950400"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBackend]:
    with label_studio_ml_backend(tmp_path_factory.mktemp("label-studio-ml")) as running:
        yield running


@pytest.fixture()
def client(backend: RunningBackend) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=backend.url, timeout=30) as client:
        yield client


def setup(client: httpx.Client) -> Any:
    response = client.post(
        "/setup",
        json={"project": PROJECT, "schema": SENTIMENT_CONFIG, "hostname": "", "access_token": ""},
    )
    assert response.status_code == 200, response.text
    return response.json()["model_version"]


def predict(client: httpx.Client, text: str) -> dict[str, Any]:
    response = client.post(
        "/predict",
        json={
            "tasks": [{"id": 1, "data": {"text": text}}],
            "project": PROJECT,
            "label_config": SENTIMENT_CONFIG,
            "params": {"login": None, "password": None, "context": None},
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_package_server_speaks_the_protocol_and_learns_from_webhooks(client: httpx.Client) -> None:
    health = client.get("/health").json()
    assert health["status"] == "UP"

    assert setup(client) == "INITIAL"
    untrained = predict(client, "a wonderful film")
    assert untrained == {"model_version": "INITIAL", "results": [{"result": [], "score": 0.0}]}

    event = client.post(
        "/webhook",
        json={
            "action": "ANNOTATION_CREATED",
            "project": {"id": 51, "label_config": SENTIMENT_CONFIG},
            "task": {"id": 1, "data": {"text": "a wonderful film"}},
            "annotation": choice_annotation(7, "Positive"),
        },
    )
    assert event.status_code == 201
    job_id = event.json()["job_id"]

    # The package trains in a child process and picks the result up on the next /setup.
    deadline = time.monotonic() + 20
    while (version := setup(client)) == "INITIAL" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert version == int(job_id)
    trained = predict(client, "wonderful")
    assert trained["model_version"] == int(job_id)
    [prediction] = trained["results"]
    assert prediction["result"][0]["value"] == {"choices": ["Positive"]}
    assert prediction["score"] == 1.0

    versions = client.post("/versions", json={"project": PROJECT}).json()
    assert versions["versions"] == [int(job_id)]

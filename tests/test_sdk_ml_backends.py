"""Real ML backends through LabelOps, driven by the official SDK: the reference scikit-learn
classifier and a model on `label-studio-ml` from PyPI (its own server, unmodified) are
connected, asked for predictions of a project's tasks, and the predictions read back.

The single process runs as `make run` runs it, with loopback model servers allowed
(`LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS=true`) and a token for backends to call back with.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from label_studio_sdk import LabelStudio
from labelops_runtime.suite import free_loopback_port
from labelops_testing.databases import embedded_data_dir
from labelops_testing.ml_backends import (
    SENTIMENT_CONFIG,
    choice_annotation,
    label_studio_ml_backend,
    sentiment_texts,
    sklearn_backend,
)
from labelops_testing.processes import stop_process, wait_until_answering

from .conftest import (  # type: ignore[import-not-found]
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ADMIN_TOKEN,
    SECRET,
    RunningProcess,
    service_databases,
)

HEADERS = {"Authorization": f"Token {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def ml_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    tmp = tmp_path_factory.mktemp("ml-suite")
    port = free_loopback_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        "LABELOPS_PORT": str(port),
        "LABELOPS_SECRET_KEY": SECRET,
        "LABELOPS_ADMIN_EMAIL": ADMIN_EMAIL,
        "LABELOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LABELOPS_ADMIN_TOKEN": ADMIN_TOKEN,
        # Model servers on this machine's loopback, as on a laptop with `make run`.
        "LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
        # What /setup gives backends to call back with (the SDK's way to read annotations).
        "LABELOPS_ML_GATEWAY_BACKEND_CALLBACK_URL": base_url,
        "LABELOPS_ML_GATEWAY_BACKEND_ACCESS_TOKEN": ADMIN_TOKEN,
        # Backends' state and model version followed closely (a new version after training).
        "LABELOPS_ML_GATEWAY_REFRESH_INTERVAL_SECONDS": "1",
    }
    with embedded_data_dir() as data_dir, service_databases() as urls:
        env.update(urls, LABELOPS_DATA_DIR=str(data_dir))
        log_path = tmp / "labelops.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "labelops_runtime.cli", "serve", "--target", "all"],
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        running = RunningProcess(base_url=base_url, process=process, log_path=log_path)
        try:
            # A shared 2-core machine can take over a minute to migrate and start.
            wait_until_answering(
                f"{base_url}/healthz", process, log_path=log_path, deadline=time.monotonic() + 240
            )
            yield running
        finally:
            stop_process(process, timeout=20)


@pytest.fixture()
def sdk(ml_suite: RunningProcess) -> LabelStudio:
    return LabelStudio(base_url=ml_suite.base_url, api_key=ADMIN_TOKEN)


@pytest.fixture()
def api(ml_suite: RunningProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ml_suite.base_url, headers=HEADERS, timeout=30) as client:
        yield client


def import_reviews(api: httpx.Client, project_id: int, reviews: list[tuple[str, str]]) -> None:
    """Unlabelled tasks; the true sentiment rides along in `truth`, which the config ignores."""
    answer = api.post(
        f"/api/projects/{project_id}/import",
        content=json.dumps([{"text": text, "truth": label} for text, label in reviews]),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 201, answer.text


def exported(reviews: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"id": index, "data": {"text": text}, "annotations": [choice_annotation(index, label)]}
        for index, (text, label) in enumerate(reviews, start=1)
    ]


def finished_job(api: httpx.Client, backend_id: int, *, timeout: float = 60) -> dict[str, Any]:
    """The backend's newest prediction job once it has finished (as the web app polls it)."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = api.get(f"/api/ml/{backend_id}/jobs")
        assert jobs.status_code == 200, jobs.text
        newest: dict[str, Any] = jobs.json()[0]
        if newest["status"] in {"succeeded", "failed", "cancelled"}:
            return newest
        assert time.monotonic() < deadline, f"prediction job still {newest['status']}: {newest}"
        time.sleep(0.2)


def retrieve_all(sdk: LabelStudio, api: httpx.Client, project_id: int, backend_id: int) -> dict:
    sdk.actions.create(
        id="retrieve_tasks_predictions",
        project=project_id,
        selected_items={"all": True, "excluded": []},
    )
    return finished_job(api, backend_id)


def test_reference_backend_predicts_a_project_through_the_sdk(
    sdk: LabelStudio, api: httpx.Client, tmp_path: Path
) -> None:
    project = sdk.projects.create(title="Reference backend", label_config=SENTIMENT_CONFIG)
    assert project.id is not None
    reviews = sentiment_texts(30, seed=11)
    import_reviews(api, project.id, reviews)
    with sklearn_backend(tmp_path) as backend:
        # A model trained before it is connected (its legacy /train call).
        trained = httpx.post(
            f"{backend.url}/train",
            json={
                "annotations": exported(sentiment_texts(200, seed=12)),
                "project": f"{project.id}.0",
                "label_config": SENTIMENT_CONFIG,
            },
        )
        assert trained.status_code == 201, trained.text

        ml = sdk.ml.create(project=project.id, url=backend.url, title="sklearn")
        assert ml.id is not None
        assert (ml.state, ml.model_version) == ("CO", "tfidf-logreg-v1")
        assert [b.id for b in sdk.ml.list(project=project.id)] == [ml.id]

        job = retrieve_all(sdk, api, project.id, ml.id)
        assert job["status"] == "succeeded", job
        assert (job["total"], job["predicted"], job["failed"]) == (30, 30, 0)

        predictions = sdk.predictions.list(project=project.id)
        assert len(predictions) == 30
        assert {p.model_version for p in predictions} == {"tfidf-logreg-v1"}
        assert all(p.score is not None and 0.5 < p.score <= 1 for p in predictions)
        truth = {
            task.id: task.data["truth"] for task in sdk.tasks.list(project=project.id, fields="all")
        }
        correct = sum(p.result[0]["value"]["choices"] == [truth[p.task]] for p in predictions)
        assert correct >= 27  # a real model: 90 % on reviews it has never seen

        # Asked again, nothing is predicted twice for the same model version.
        again = retrieve_all(sdk, api, project.id, ml.id)
        assert (again["predicted"], again["skipped"]) == (0, 30), again
        assert len(sdk.predictions.list(project=project.id)) == 30
        assert backend.process.poll() is None


def test_label_studio_ml_package_backend_through_the_sdk(
    sdk: LabelStudio, api: httpx.Client, tmp_path: Path
) -> None:
    """The package's server learns from the annotation events LabelOps sends its /webhook
    (the project trains after every annotation), and its predictions come back through the
    data manager action. Its model version is a number; Label Studio's field is a string."""
    project = sdk.projects.create(title="label-studio-ml backend", label_config=SENTIMENT_CONFIG)
    assert project.id is not None
    assert (
        api.patch(
            f"/api/projects/{project.id}", json={"min_annotations_to_start_training": 1}
        ).status_code
        == 200
    )
    import_reviews(
        api, project.id, [("a wonderful film", "Positive"), ("wonderful acting", "Positive")]
    )
    tasks = {t.data["text"]: t.id for t in sdk.tasks.list(project=project.id)}
    with label_studio_ml_backend(tmp_path) as backend:
        ml = sdk.ml.create(project=project.id, url=backend.url, title="label-studio-ml")
        assert ml.id is not None
        assert (ml.state, ml.model_version) == ("CO", "INITIAL")

        sdk.annotations.create(
            id=tasks["a wonderful film"], result=choice_annotation(0, "Positive")["result"]
        )
        deadline = time.monotonic() + 60
        while (version := sdk.ml.get(id=ml.id).model_version) == "INITIAL":
            assert time.monotonic() < deadline, backend.log()[-3000:]
            time.sleep(0.5)
        assert version is not None and version.isdigit()
        [run] = api.get(f"/api/ml/{ml.id}/train-jobs").json()
        assert (run["action"], run["status"]) == ("ANNOTATION_CREATED", "succeeded")

        job = retrieve_all(sdk, api, project.id, ml.id)
        assert job["status"] == "succeeded", job
        predictions = {p.task: p for p in sdk.predictions.list(project=project.id)}
        unseen = predictions[tasks["wonderful acting"]]
        assert unseen.result[0]["value"] == {"choices": ["Positive"]}
        assert unseen.model_version == version
        assert unseen.score == 1.0


def test_the_loop_predict_annotate_train_better_predictions(
    sdk: LabelStudio, api: httpx.Client, tmp_path: Path
) -> None:
    """The reference backend starts knowing nothing; people annotate through LabelOps; each
    "train" (`POST /api/ml/{id}/train`, START_TRAINING to the backend, which reads the
    annotations back through the platform's export with the token /setup gave it) makes a
    new model version whose predictions are better than the last."""
    project = sdk.projects.create(title="The loop", label_config=SENTIMENT_CONFIG)
    assert project.id is not None
    import_reviews(api, project.id, sentiment_texts(200, seed=31))
    tasks = sorted(sdk.tasks.list(project=project.id, fields="all"), key=lambda t: t.id)
    truth = {task.id: task.data["truth"] for task in tasks}

    with sklearn_backend(tmp_path) as backend:
        ml = sdk.ml.create(project=project.id, url=backend.url, title="sklearn")
        assert ml.id is not None
        assert (ml.state, ml.model_version or "") == ("CO", "")

        # Untrained: the backend answers no prediction for any task, and nothing is stored.
        first = retrieve_all(sdk, api, project.id, ml.id)
        assert (first["total"], first["predicted"]) == (200, 0), first
        assert sdk.predictions.list(project=project.id) == []

        def annotate(count: int, start: int) -> None:
            for task in tasks[start : start + count]:
                sdk.annotations.create(
                    id=task.id, result=choice_annotation(0, truth[task.id])["result"]
                )

        def train_to_new_version(previous: str) -> str:
            sdk.ml.train(id=ml.id)
            deadline = time.monotonic() + 60
            while (version := sdk.ml.get(id=ml.id).model_version or "") == previous:
                assert time.monotonic() < deadline, backend.log()[-2000:]
                time.sleep(0.5)
            return version

        def accuracy(version: str, annotated: int) -> float:
            retrieve_all(sdk, api, project.id, ml.id)
            held_out = {task.id for task in tasks[annotated:]}
            predicted = {
                p.task: p.result[0]["value"]["choices"][0]
                for p in sdk.predictions.list(project=project.id)
                if p.model_version == version and p.task in held_out
            }
            assert len(predicted) == len(held_out)
            return sum(label == truth[task] for task, label in predicted.items()) / len(held_out)

        annotate(6, 0)
        version_1 = train_to_new_version("")
        accuracy_1 = accuracy(version_1, 6)

        annotate(34, 6)
        version_2 = train_to_new_version(version_1)
        accuracy_2 = accuracy(version_2, 40)

        assert (version_1, version_2) == ("tfidf-logreg-v1", "tfidf-logreg-v2")
        assert accuracy_1 < 0.85
        assert accuracy_2 >= 0.9
        assert accuracy_2 > accuracy_1 + 0.1
        # Each version's predictions stay, under their own version.
        versions = {p.model_version for p in sdk.predictions.list(project=project.id)}
        assert versions == {version_1, version_2}

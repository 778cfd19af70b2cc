"""Machine learning in a real browser, against real model servers: the ML settings page
(connect, see state, edit, versions, test, disconnect) and the data manager's "Retrieve
Predictions" with its progress, then the predictions as pre-labels in the editor."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
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
from playwright.sync_api import Page, expect


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBackend]:
    with sklearn_backend(tmp_path_factory.mktemp("browser-ml-backend")) as running:
        yield running


def pretrain(backend: RunningBackend, project_id: int) -> None:
    """The model learns before it is connected (the backend's legacy /train call)."""
    reviews = sentiment_texts(200, seed=21)
    answer = httpx.post(
        f"{backend.url}/train",
        json={
            "annotations": [
                {"id": i, "data": {"text": text}, "annotations": [choice_annotation(i, label)]}
                for i, (text, label) in enumerate(reviews, start=1)
            ],
            "project": f"{project_id}.0",
            "label_config": SENTIMENT_CONFIG,
        },
        timeout=30,
    )
    assert answer.status_code == 201, answer.text


def test_ml_page_connects_edits_and_disconnects_a_model_server(
    page: Page,
    api: httpx.Client,
    backend: RunningBackend,
    make_project: Callable[..., dict[str, Any]],
    screenshot: Callable[[Page, str], Path],
) -> None:
    project_id = make_project("ML settings", SENTIMENT_CONFIG, [{"text": "a superb film"}])["id"]
    pretrain(backend, project_id)
    page.goto(f"/projects/{project_id}/settings/ml")
    expect(page.get_by_text("No model connected")).to_be_visible()

    # A URL where no model server answers is refused, with the reason, and nothing is saved.
    page.get_by_role("button", name="Connect model").click()
    dialog = page.get_by_role("dialog", name="Connect model")
    dialog.get_by_label("Name").fill("Nobody")
    dialog.get_by_label("Backend URL").fill("http://127.0.0.1:9/")
    dialog.get_by_role("button", name="Connect").click()
    expect(dialog.locator(".field-errors, .error-list").first).to_be_visible()
    assert api.get("/api/ml", params={"project": project_id}).json() == []

    dialog.get_by_label("Name").fill("Sentiment")
    dialog.get_by_label("Backend URL").fill(backend.url)
    dialog.get_by_role("button", name="Connect").click()
    expect(dialog).to_be_hidden()
    table = page.get_by_role("table", name="ML backends")
    expect(table.get_by_label("State of Sentiment")).to_have_text("Connected")
    expect(table).to_contain_text("tfidf-logreg-v1")

    # Edit: basic auth and a timeout; the password is never shown again.
    table.get_by_role("button", name="Edit Sentiment").click()
    edit = page.get_by_role("dialog", name="Edit Sentiment")
    edit.get_by_label("Authentication").select_option("BASIC_AUTH")
    edit.get_by_label("Basic auth user").fill("labelops")
    edit.get_by_label("Basic auth password").fill("model-server-secret")
    edit.get_by_label("Timeout (seconds)").fill("30")
    edit.get_by_role("button", name="Save").click()
    expect(edit).to_be_hidden()
    expect(table).to_contain_text("basic auth")
    [stored] = api.get("/api/ml", params={"project": project_id}).json()
    assert (stored["auth_method"], stored["basic_auth_user"], stored["timeout"]) == (
        "BASIC_AUTH",
        "labelops",
        30.0,
    )
    assert stored["basic_auth_pass_is_set"] is True
    assert "model-server-secret" not in page.content()
    table.get_by_role("button", name="Edit Sentiment").click()
    expect(page.get_by_label("Basic auth password")).to_have_value("")
    expect(page.get_by_label("Basic auth password")).to_have_attribute(
        "placeholder", re.compile("Set")
    )
    page.get_by_role("dialog", name="Edit Sentiment").get_by_role("button", name="Cancel").click()

    # The model's versions, and a test prediction of a random task.
    table.get_by_role("button", name="Versions of Sentiment").click()
    versions = page.get_by_role("list", name="Model versions")
    expect(versions).to_contain_text("tfidf-logreg-v1")
    expect(versions).to_contain_text("current")
    page.keyboard.press("Escape")
    table.get_by_role("button", name="Test Sentiment").click()
    expect(page.get_by_label("Test prediction answer")).to_contain_text('"choices"')
    screenshot(page, "ml-test-prediction")
    page.keyboard.press("Escape")

    # Train by hand: the run shows up with its state; the model answers with a new version.
    table.get_by_role("button", name="Train Sentiment").click()
    training = page.get_by_role("region", name="Training of Sentiment")
    expect(training).to_contain_text("started by hand")
    expect(training.get_by_role("listitem").first).to_contain_text("succeeded")
    expect(table).to_contain_text("tfidf-logreg-v2")
    screenshot(page, "ml-page-after-training")

    # The project's side of the loop: pre-labels on, training after every 5 annotations.
    settings = page.get_by_role("form", name="Training settings")
    settings.get_by_label("Train after every N annotations").fill("5")
    settings.get_by_role("button", name="Save training settings").click()
    expect(settings.get_by_role("button", name="Save training settings")).to_be_disabled()
    saved = api.get(f"/api/projects/{project_id}").json()
    assert saved["min_annotations_to_start_training"] == 5

    table.get_by_role("button", name="Remove Sentiment").click()
    page.get_by_role("dialog").get_by_role("button", name="Disconnect").click()
    expect(page.get_by_text("No model connected")).to_be_visible()
    assert api.get("/api/ml", params={"project": project_id}).json() == []


def test_retrieve_predictions_shows_progress_and_prelabels_reach_the_editor(
    page: Page,
    api: httpx.Client,
    backend: RunningBackend,
    make_project: Callable[..., dict[str, Any]],
    screenshot: Callable[[Page, str], Path],
) -> None:
    reviews = sentiment_texts(40, seed=22)
    project_id = make_project(
        "Retrieve predictions", SENTIMENT_CONFIG, [{"text": text} for text, _ in reviews]
    )["id"]
    pretrain(backend, project_id)
    connected = api.post(
        "/api/ml", json={"project": project_id, "url": backend.url, "title": "Sentiment"}
    )
    assert connected.status_code == 201, connected.text

    page.goto(f"/projects/{project_id}/data")
    totals = page.get_by_role("status", name="Task totals")
    expect(totals).to_contain_text("40 tasks · 0 annotations · 0 predictions")
    page.get_by_role("checkbox", name="Select all tasks").check()
    page.get_by_role("button", name="Actions (40 selected)").click()
    page.get_by_role("menuitem", name="Retrieve Predictions").click()
    page.get_by_role("dialog").get_by_role("button", name="Retrieve Predictions").click()

    progress = page.get_by_role("region", name="Retrieving predictions")
    expect(progress).to_be_visible()
    expect(progress.get_by_role("status")).to_contain_text("40 of 40 tasks")
    expect(progress.get_by_role("status")).to_contain_text("Done")
    expect(progress).to_contain_text("40 predicted")
    expect(totals).to_contain_text("40 predictions")
    screenshot(page, "ml-retrieve-predictions")

    # The ML page lists the job with the same counts.
    page.goto(f"/projects/{project_id}/settings/ml")
    jobs = page.get_by_role("region", name="Prediction jobs of Sentiment")
    expect(jobs).to_contain_text("40 of 40 tasks")

    # In the editor, the prediction is the pre-label: its choice is already ticked.
    tasks = api.get("/api/tasks", params={"project": project_id, "fields": "all"}).json()["tasks"]
    task = next(t for t in tasks if t["predictions"])
    predicted = task["predictions"][0]["result"][0]["value"]["choices"][0]
    other = "Negative" if predicted == "Positive" else "Positive"
    page.goto(f"/projects/{project_id}/label?task={task['id']}")
    editor = page.get_by_role("region", name="Labeling editor")
    expect(editor.get_by_label(predicted)).to_be_checked()
    expect(editor.get_by_label(other)).not_to_be_checked()
    screenshot(page, "ml-prelabel-in-editor")

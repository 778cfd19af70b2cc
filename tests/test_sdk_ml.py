"""ML backends through the official SDK against the whole suite (`labelops serve --target
all`, the embedded queue): connect a real protocol server, retrieve predictions for a
project with the data manager action, read them back."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError
from labelops_testing.ml_backend import ProtocolBackend, running_backend

from .conftest import ADMIN_TOKEN  # type: ignore[import-not-found]

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""


@pytest.fixture()
def sdk(suite) -> LabelStudio:
    return LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)


@pytest.fixture()
def backend() -> Iterator[ProtocolBackend]:
    with running_backend() as server:
        yield server


def _predicted(sdk: LabelStudio, suite, project_id: int, expected: int) -> list[object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        tasks = list(sdk.tasks.list(project=project_id, fields="all"))
        if sum(len(task.predictions or []) for task in tasks) >= expected:
            return tasks
        time.sleep(0.2)
    raise AssertionError(f"the predictions did not arrive within 60 s:\n{suite.log()[-6000:]}")


def test_connect_retrieve_and_read_back_predictions(
    sdk: LabelStudio, suite, backend: ProtocolBackend
) -> None:
    project = sdk.projects.create(title="ML loop", label_config=CONFIG)
    texts = ["a good film", "a dull film", "good acting"]
    ids = [sdk.tasks.create(project=project.id, data={"text": t}).id for t in texts]

    connected = sdk.ml.create(url=backend.url, project=project.id, title="keywords")
    assert connected.state == "CO" and connected.model_version == "keyword-1"
    assert [b.id for b in sdk.ml.list(project=project.id)] == [connected.id]
    assert sdk.ml.get(id=connected.id).url == backend.url
    assert sdk.ml.list_model_versions(id=connected.id).versions == ["keyword-1", "keyword-0"]

    sdk.actions.create(
        id="retrieve_tasks_predictions",
        project=project.id,
        selected_items={"all": True, "excluded": []},
    )
    tasks = {task.id: task for task in _predicted(sdk, suite, project.id, expected=3)}
    labels = {
        task_id: tasks[task_id].predictions[0].result[0]["value"]["choices"][0] for task_id in ids
    }
    assert labels == {ids[0]: "Positive", ids[1]: "Negative", ids[2]: "Positive"}
    assert {tasks[i].predictions[0].model_version for i in ids} == {"keyword-1"}
    assert sdk.predictions.list(task=ids[0])[0].score == pytest.approx(0.9)
    assert sorted(backend.predicted_task_ids()) == sorted(ids)

    updated = sdk.ml.update(id=connected.id, title="renamed", is_interactive=True)
    assert updated.title == "renamed" and updated.is_interactive
    # The SDK types these two as answering nothing; the backend shows what they sent.
    sdk.ml.predict_interactive(id=connected.id, task=ids[0], context={"result": []})
    assert backend.calls("/predict")[-1].body["params"]["context"] == {"result": []}
    sdk.ml.train(id=connected.id)
    deadline = time.monotonic() + 60
    while not backend.calls("/webhook"):
        assert time.monotonic() < deadline, "START_TRAINING did not reach the backend"
        time.sleep(0.1)
    assert backend.calls("/webhook")[0].body["action"] == "START_TRAINING"
    sdk.ml.delete(id=connected.id)
    assert sdk.ml.list(project=project.id) == []


def test_an_unreachable_backend_is_refused_through_the_sdk(sdk: LabelStudio) -> None:
    from labelops_runtime.suite import free_loopback_port

    project = sdk.projects.create(title="ML refused", label_config=CONFIG)
    with pytest.raises(ApiError) as refused:
        sdk.ml.create(url=f"http://127.0.0.1:{free_loopback_port()}", project=project.id)
    assert refused.value.status_code == 400
    assert "health check failed" in refused.value.body["detail"]

"""Task import through the official SDKs against `labelops serve --target all`.

The small import is answered inline (Label Studio's OSS shape); the large one is over the
sync threshold, so it is queued, run by the embedded worker, and polled by the legacy
SDK through `GET /api/projects/{id}/imports/{import_id}` (Label Studio Enterprise's shape).
"""

from __future__ import annotations

import json

import httpx
import pytest
from label_studio_sdk import Client, LabelStudio
from label_studio_sdk.core.api_error import ApiError

from .conftest import ADMIN_TOKEN  # type: ignore[import-not-found]

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""
HEADERS = {"Authorization": f"Token {ADMIN_TOKEN}"}
CHOICE = [
    {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


@pytest.fixture()
def sdk(suite) -> LabelStudio:
    return LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)


def test_import_tasks_with_the_sdk(sdk: LabelStudio, suite) -> None:
    project = sdk.projects.create(title="Import", label_config=CONFIG)
    answer = sdk.projects.import_tasks(
        id=project.id,
        request=[
            {"text": "plain"},
            {"data": {"text": "annotated"}, "annotations": [{"result": CHOICE}]},
            {"data": {"text": "predicted"}, "predictions": [{"result": CHOICE, "score": 0.5}]},
        ],
        return_task_ids=True,
    )
    assert answer.task_count == 3
    assert answer.annotation_count == 1
    assert len(answer.task_ids or []) == 3

    listed = list(sdk.tasks.list(project=project.id, fields="all"))
    assert sorted(task.data["text"] for task in listed) == ["annotated", "plain", "predicted"]
    annotated = next(task for task in listed if task.data["text"] == "annotated")
    assert sdk.tasks.get(id=annotated.id).is_labeled is True
    fetched = sdk.projects.get(id=project.id)
    assert fetched.task_number == 3
    assert fetched.total_annotations_number == 1
    assert fetched.total_predictions_number == 1

    with pytest.raises(ApiError) as bad:
        sdk.projects.import_tasks(id=project.id, request=[{"text": "ok"}, {"nope": "x"}])
    assert bad.value.status_code == 400
    assert "Error at item 1" in str(bad.value.body)
    assert sdk.projects.get(id=project.id).task_number == 3


def test_a_large_import_is_queued_and_polled_by_the_legacy_sdk(suite) -> None:
    client = Client(url=suite.base_url, api_key=ADMIN_TOKEN)
    project = client.start_project(title="Big import", label_config=CONFIG)
    padding = "y" * 450
    tasks = [{"text": f"task {index} {padding}"} for index in range(20_000)]
    assert len(json.dumps(tasks)) > 8 * 1024 * 1024  # over the default sync threshold
    task_ids = project.import_tasks(tasks)
    assert len(task_ids) == 20_000
    assert len(set(task_ids)) == 20_000

    first = httpx.get(f"{suite.base_url}/api/tasks/{task_ids[0]}", headers=HEADERS)
    assert first.status_code == 200 and first.json()["data"]["text"].startswith("task 0 ")
    counted = httpx.get(f"{suite.base_url}/api/projects/{project.id}", headers=HEADERS)
    assert counted.json()["task_number"] == 20_000

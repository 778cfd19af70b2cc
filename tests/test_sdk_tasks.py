"""Tasks, annotations and predictions through the official SDK, with the counters they keep."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from .conftest import ADMIN_TOKEN  # type: ignore[import-not-found]

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""
HEADERS = {"Authorization": f"Token {ADMIN_TOKEN}"}


def choice(label: str) -> list[dict[str, object]]:
    return [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


@pytest.fixture()
def sdk(suite) -> LabelStudio:
    return LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)


def counters(sdk: LabelStudio, project_id: int) -> dict[str, int | None]:
    project = sdk.projects.get(id=project_id)
    return {
        name: getattr(project, name)
        for name in (
            "task_number",
            "total_annotations_number",
            "skipped_annotations_number",
            "num_tasks_with_annotations",
            "finished_task_number",
            "total_predictions_number",
            "ground_truth_number",
        )
    }


def test_task_lifecycle(sdk: LabelStudio, suite) -> None:
    project = sdk.projects.create(title="Tasks", label_config=CONFIG)
    task = sdk.tasks.create(project=project.id, data={"text": "good film"}, meta={"src": "a"})
    assert task.id and task.inner_id == 1
    second = sdk.tasks.create(project=project.id, data={"text": "bad film"})
    assert second.inner_id == 2
    fetched = sdk.tasks.get(id=task.id)
    assert fetched.data == {"text": "good film"} and fetched.meta == {"src": "a"}
    sdk.tasks.update(id=task.id, data={"text": "great film"})
    assert sdk.tasks.get(id=task.id).data == {"text": "great film"}

    listed = httpx.get(f"{suite.base_url}/api/projects/{project.id}/tasks", headers=HEADERS)
    assert [t["id"] for t in listed.json()] == [task.id, second.id]  # newest change first
    past_end = httpx.get(
        f"{suite.base_url}/api/projects/{project.id}/tasks?page=2", headers=HEADERS
    )
    assert past_end.status_code == 404
    assert counters(sdk, project.id)["task_number"] == 2

    sdk.tasks.delete(id=second.id)
    assert counters(sdk, project.id)["task_number"] == 1
    sdk.tasks.delete_all_tasks(id=project.id)
    assert counters(sdk, project.id)["task_number"] == 0
    with pytest.raises(ApiError) as gone:
        sdk.tasks.get(id=task.id)
    assert gone.value.status_code == 404


def test_bad_task_data_is_refused_and_changes_nothing(sdk: LabelStudio, suite) -> None:
    project = sdk.projects.create(title="Strict", label_config=CONFIG)
    response = httpx.post(
        f"{suite.base_url}/api/tasks",
        json={"project": project.id, "data": {"image": "x.png"}},
        headers=HEADERS,
    )
    assert response.status_code == 400
    assert response.json()["validation_errors"]["data"] == ['"text" key is expected in task data']
    not_a_dict = httpx.post(
        f"{suite.base_url}/api/tasks", json={"project": project.id, "data": [1]}, headers=HEADERS
    )
    assert not_a_dict.status_code == 400 and "data" in not_a_dict.json()["validation_errors"]
    assert counters(sdk, project.id)["task_number"] == 0


def test_annotations_keep_task_and_project_counters(sdk: LabelStudio, suite) -> None:
    project = sdk.projects.create(title="Counted", label_config=CONFIG, maximum_annotations=1)
    task = sdk.tasks.create(project=project.id, data={"text": "ok"})

    annotation = sdk.annotations.create(id=task.id, result=choice("Positive"), ground_truth=True)
    assert annotation.completed_by and annotation.result[0]["value"]["choices"] == ["Positive"]
    skipped = httpx.post(
        f"{suite.base_url}/api/tasks/{task.id}/annotations?was_cancelled=1",
        json={"result": []},
        headers=HEADERS,
    )
    assert skipped.status_code == 201 and skipped.json()["was_cancelled"] is True
    refreshed = sdk.tasks.get(id=task.id)
    assert (refreshed.total_annotations, refreshed.cancelled_annotations) == (1, 1)
    assert refreshed.is_labeled is True
    assert [a.id for a in sdk.annotations.list(id=task.id)] == [annotation.id]  # no skips
    assert counters(sdk, project.id) == {
        "task_number": 1,
        "total_annotations_number": 1,
        "skipped_annotations_number": 1,
        "num_tasks_with_annotations": 1,
        "finished_task_number": 1,
        "total_predictions_number": 0,
        "ground_truth_number": 1,
    }

    sdk.annotations.update(id=annotation.id, result=choice("Negative"))
    assert sdk.annotations.get(id=annotation.id).result[0]["value"]["choices"] == ["Negative"]
    sdk.annotations.delete(id=annotation.id)
    assert sdk.tasks.get(id=task.id).is_labeled is False
    after = counters(sdk, project.id)
    assert after["total_annotations_number"] == 0 and after["finished_task_number"] == 0
    assert after["ground_truth_number"] == 0 and after["num_tasks_with_annotations"] == 0


def test_results_are_checked_against_the_config(sdk: LabelStudio, suite) -> None:
    project = sdk.projects.create(title="Checked", label_config=CONFIG)
    task = sdk.tasks.create(project=project.id, data={"text": "ok"})
    bad = [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["Meh"]},
        },
        {"from_name": "mood", "to_name": "text", "type": "choices", "value": {"choices": []}},
    ]
    response = httpx.post(
        f"{suite.base_url}/api/tasks/{task.id}/annotations", json={"result": bad}, headers=HEADERS
    )
    assert response.status_code == 400
    problems = response.json()["validation_errors"]["result"]
    assert any(p.startswith("result[0].value.choices") and "Meh" in p for p in problems)
    assert any(p.startswith("result[1].from_name") for p in problems)
    assert sdk.tasks.get(id=task.id).total_annotations == 0


def test_unique_id_makes_a_retried_create_safe(sdk: LabelStudio, suite) -> None:
    project = sdk.projects.create(title="Retry", label_config=CONFIG)
    task = sdk.tasks.create(project=project.id, data={"text": "ok"})
    body = {"result": choice("Positive"), "unique_id": "5f0c1a38-2b8e-4a8e-9f4c-0b2f6b1d9c11"}
    url = f"{suite.base_url}/api/tasks/{task.id}/annotations"
    assert httpx.post(url, json=body, headers=HEADERS).status_code == 201
    again = httpx.post(url, json=body, headers=HEADERS)
    assert again.status_code == 409
    assert sdk.tasks.get(id=task.id).total_annotations == 1


def test_concurrent_annotators_on_one_task_count_exactly(sdk: LabelStudio, suite) -> None:
    project = sdk.projects.create(title="Busy", label_config=CONFIG, maximum_annotations=3)
    task = sdk.tasks.create(project=project.id, data={"text": "ok"})
    url = f"{suite.base_url}/api/tasks/{task.id}/annotations"

    def annotate(i: int) -> int:
        with httpx.Client(headers=HEADERS, timeout=30) as client:
            return client.post(url, json={"result": choice("Positive")}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(annotate, range(16)))
    assert statuses == [201] * 16
    fetched = sdk.tasks.get(id=task.id)
    assert fetched.total_annotations == 16
    # one annotator (the admin) however many annotations: overlap 3 is not reached
    assert fetched.is_labeled is False
    assert counters(sdk, project.id)["total_annotations_number"] == 16


def test_predictions_lifecycle(sdk: LabelStudio, suite) -> None:
    project = sdk.projects.create(title="Predicted", label_config=CONFIG)
    task = sdk.tasks.create(project=project.id, data={"text": "ok"})
    prediction = sdk.predictions.create(
        task=task.id, result=choice("Positive"), score=0.8, model_version="v1"
    )
    assert prediction.model_version == "v1" and prediction.score == pytest.approx(0.8)
    assert [p.id for p in sdk.predictions.list(task=task.id)] == [prediction.id]
    assert sdk.tasks.get(id=task.id).total_predictions == 1
    sdk.predictions.update(id=prediction.id, score=0.1)
    assert sdk.predictions.get(id=prediction.id).score == pytest.approx(0.1)
    assert counters(sdk, project.id)["total_predictions_number"] == 1
    sdk.predictions.delete(id=prediction.id)
    assert sdk.tasks.get(id=task.id).total_predictions == 0
    assert counters(sdk, project.id)["total_predictions_number"] == 0
    bad = httpx.post(
        f"{suite.base_url}/api/predictions",
        json={
            "task": task.id,
            "result": [{"from_name": "x", "to_name": "text", "type": "choices", "value": {}}],
        },
        headers=HEADERS,
    )
    assert bad.status_code == 400 and "result" in bad.json()["validation_errors"]


def test_deleting_a_project_deletes_its_tasks(sdk: LabelStudio, suite) -> None:
    project = sdk.projects.create(title="Doomed", label_config=CONFIG)
    task = sdk.tasks.create(project=project.id, data={"text": "ok"})
    sdk.projects.delete(id=project.id)
    missing = httpx.get(f"{suite.base_url}/api/tasks/{task.id}", headers=HEADERS)
    assert missing.status_code == 404

"""Routes that build their JSON themselves declare their model for the document only
(`labelops_common.http.answers.documented`), so FastAPI never checks their answers: these
tests do. An answer matches when its model reads it and writes back the same JSON (a key
the model does not declare would be dropped, a wrong type would not validate)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from task_svc.annotations.schemas import AuthoredAnnotationAnswer
from task_svc.datamanager.schemas import TaskPageAnswer
from task_svc.imports.schemas import ImportAnswer
from task_svc.labelstream.schemas import NextTaskAnswer
from task_svc.predictions.schemas import PredictionAnswer
from task_svc.tasks.schemas import TaskWithResultsAnswer

REGION = {
    "from_name": "sentiment",
    "to_name": "text",
    "type": "choices",
    "value": {"choices": ["Positive"]},
}


def assert_answers_as(annotation: Any, body: Any) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    parsed = adapter.validate_python(body)
    assert adapter.dump_python(parsed, mode="json", by_alias=True, exclude_unset=True) == body


def test_documented_answers_match_their_models(
    client: TestClient, cast: Any, make_project: Any
) -> None:
    headers = cast.owner.headers
    project_id = make_project()
    imported = client.post(
        f"/api/projects/{project_id}/import?return_task_ids=true",
        json=[{"text": "one"}, {"text": "two"}],
        headers=headers,
    )
    assert imported.status_code == 201, imported.text
    assert_answers_as(ImportAnswer, imported.json())
    task_id = imported.json()["task_ids"][0]

    annotated = client.post(
        f"/api/tasks/{task_id}/annotations", json={"result": [REGION]}, headers=headers
    )
    assert annotated.status_code == 201, annotated.text
    assert_answers_as(AuthoredAnnotationAnswer, annotated.json())
    predicted = client.post(
        "/api/predictions",
        json={"task": task_id, "result": [REGION], "score": 0.5, "model_version": "v1"},
        headers=headers,
    )
    assert predicted.status_code == 201, predicted.text

    predictions = client.get("/api/predictions", params={"task": task_id}, headers=headers)
    assert predictions.status_code == 200, predictions.text
    assert len(predictions.json()) == 1
    assert_answers_as(list[PredictionAnswer], predictions.json())

    for fields in ("all", "task_only"):
        page = client.get(
            "/api/tasks", params={"project": project_id, "fields": fields}, headers=headers
        )
        assert page.status_code == 200, page.text
        assert page.json()["total"] == 2
        assert_answers_as(TaskPageAnswer, page.json())

    listed = client.get(f"/api/projects/{project_id}/tasks", headers=headers)
    assert listed.status_code == 200, listed.text
    assert len(listed.json()) == 2
    assert_answers_as(list[TaskWithResultsAnswer], listed.json())

    for method in ("GET", "POST"):
        picked = client.request(method, f"/api/projects/{project_id}/next", headers=headers)
        assert picked.status_code == 200, picked.text
        assert_answers_as(NextTaskAnswer, picked.json())

"""`assignment_settings` on `/api/projects`: Label Studio Enterprise's task distribution,
LabelOps' per-person cap and reservation timeout, what reaches other services over gRPC."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from labelops.project.v1 import project_pb2
from project_svc.projects.models import Project
from project_svc.projects.rpc import ProjectServicer
from sqlalchemy.orm import Session


def _create(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = client.post("/api/projects", json={"title": "Demo", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_defaults_distribute_automatically(client, cast) -> None:
    body = _create(client, cast.owner.headers)
    assert body["assignment_settings"] == {
        "label_stream_task_distribution": "auto_distribution",
        "max_tasks_per_person": None,
        "reservation_timeout_seconds": None,
    }


def test_set_on_create_and_patched_key_by_key(client, cast, session: Session) -> None:
    body = _create(
        client,
        cast.owner.headers,
        assignment_settings={
            "label_stream_task_distribution": "assigned_only",
            "max_tasks_per_person": 50,
            "reservation_timeout_seconds": 600,
        },
    )
    project_id = body["id"]
    patched = client.patch(
        f"/api/projects/{project_id}",
        json={"assignment_settings": {"max_tasks_per_person": None}},
        headers=cast.owner.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["assignment_settings"] == {
        "label_stream_task_distribution": "assigned_only",
        "max_tasks_per_person": None,
        "reservation_timeout_seconds": 600,
    }
    session.expire_all()
    row = session.get(Project, project_id)
    assert row is not None
    assert (row.label_stream_task_distribution, row.max_tasks_per_person) == ("assigned_only", None)


def test_bad_values_are_400_naming_the_field_and_change_nothing(client, cast, session) -> None:
    project_id = _create(client, cast.owner.headers)["id"]
    for settings, field in (
        ({"label_stream_task_distribution": "round_robin"}, "label_stream_task_distribution"),
        ({"max_tasks_per_person": 0}, "max_tasks_per_person"),
        ({"reservation_timeout_seconds": -5}, "reservation_timeout_seconds"),
    ):
        answer = client.patch(
            f"/api/projects/{project_id}",
            json={"assignment_settings": settings},
            headers=cast.owner.headers,
        )
        assert answer.status_code == 400, answer.text
        assert any(field in key for key in answer.json()["validation_errors"]), answer.text
    session.expire_all()
    row = session.get(Project, project_id)
    assert row is not None
    assert row.label_stream_task_distribution == "auto_distribution"
    assert row.max_tasks_per_person is None


def test_annotators_cannot_change_them(client, cast) -> None:
    project_id = _create(client, cast.owner.headers)["id"]
    answer = client.patch(
        f"/api/projects/{project_id}",
        json={"assignment_settings": {"label_stream_task_distribution": "assigned_only"}},
        headers=cast.annotator.headers,
    )
    assert answer.status_code in (403, 404)


def test_other_services_learn_them_over_grpc(client, cast, runtime) -> None:
    project_id = _create(
        client,
        cast.owner.headers,
        assignment_settings={
            "label_stream_task_distribution": "assigned_only",
            "max_tasks_per_person": 7,
        },
    )["id"]
    servicer = ProjectServicer(runtime.database, secret="unused-secret-key-0123456789abcdef")
    message = servicer.GetProject(project_pb2.GetProjectRequest(project_id=project_id), None)  # type: ignore[arg-type]
    assert message.label_stream_task_distribution == "assigned_only"
    assert message.max_tasks_per_person == 7
    assert message.reservation_timeout_seconds == 0

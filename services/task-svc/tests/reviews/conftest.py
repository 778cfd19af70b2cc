"""Review fixtures: a project with a reviewer among its members, and helpers to annotate it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from labelops_common.auth.principal import Role
from labelops_testing.actors import Actor, create_actor

SECRET = "task-svc-test-secret-key-0123456789abcdefghij"


def region(choice: str = "Positive") -> dict[str, Any]:
    return {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [choice]},
    }


@dataclass(frozen=True)
class Reviewing:
    """A project of `cast`'s organization, its tasks, and a reviewer who is a member."""

    project_id: int
    task_ids: list[int]
    reviewer: Actor
    reviewer2: Actor

    def annotate(
        self, client: TestClient, actor: Actor, task_id: int, choice: str = "Positive"
    ) -> int:
        answer = client.post(
            f"/api/tasks/{task_id}/annotations",
            json={"result": [region(choice)]},
            headers=actor.headers,
        )
        assert answer.status_code == 201, answer.text
        annotation_id: int = answer.json()["id"]
        return annotation_id


@pytest.fixture()
def reviewing(stack: Any, cast: Any, make_project: Any, client: TestClient) -> Reviewing:
    project_id = make_project()
    reviewers = []
    for _ in range(2):
        reviewer = create_actor(
            stack.project_runtime.database,
            organization_id=cast.owner.organization_id,
            role=Role.REVIEWER,
            secret=SECRET,
            email_prefix="",
        )
        admitted = stack.project.post(
            f"/api/projects/{project_id}/members/",
            json={"user": reviewer.user_id},
            headers=cast.owner.headers,
        )
        assert admitted.status_code == 201, admitted.text
        reviewers.append(reviewer)
    imported = client.post(
        f"/api/projects/{project_id}/import?return_task_ids=true",
        json=[{"text": f"text {n}"} for n in range(3)],
        headers=cast.owner.headers,
    )
    assert imported.status_code == 201, imported.text
    return Reviewing(
        project_id=project_id,
        task_ids=sorted(imported.json()["task_ids"]),
        reviewer=reviewers[0],
        reviewer2=reviewers[1],
    )

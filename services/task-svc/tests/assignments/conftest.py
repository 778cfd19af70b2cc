"""A project handing out work by assignment, its tasks, and helpers that read the DB after."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from labelops_common.auth.principal import Role
from labelops_testing.actors import Actor, create_actor
from sqlalchemy import select
from task_svc.assignments.models import TaskAssignment

RESULT = [
    {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


@dataclass
class World:
    stack: Any
    cast: Any
    reviewer: Actor
    project: int
    tasks: list[int]

    @property
    def client(self) -> Any:
        return self.stack.task

    def bulk(self, body: dict[str, Any], actor: Actor | None = None) -> Any:
        return self.client.post(
            f"/api/projects/{self.project}/tasks/assignees",
            json=body,
            headers=(actor or self.cast.manager).headers,
        )

    def assign(self, actor: Actor, task_ids: list[int], kind: str = "AN") -> None:
        answer = self.bulk(
            {
                "type": kind,
                "users": [actor.user_id],
                "selectedItems": {"all": False, "included": task_ids},
            }
        )
        assert answer.status_code == 200, answer.text

    def rows(self) -> list[tuple[int, int, str]]:
        """(task, user, kind) of the project's assignments, sorted."""
        with self.stack.task_runtime.database.session() as session:
            return sorted(
                (row.task_id, row.user_id, row.kind)
                for row in session.scalars(
                    select(TaskAssignment).where(TaskAssignment.project_id == self.project)
                )
            )

    def listed(self, actor: Actor, query: dict[str, Any] | None = None) -> list[int]:
        params: dict[str, Any] = {"project": self.project}
        if query is not None:
            params["query"] = json.dumps(query)
        answer = self.client.get("/api/tasks", params=params, headers=actor.headers)
        assert answer.status_code == 200, answer.text
        return [task["id"] for task in answer.json()["tasks"]]

    def next_task(self, actor: Actor) -> int | None:
        answer = self.client.get(f"/api/projects/{self.project}/next", headers=actor.headers)
        if answer.status_code == 404:
            return None
        assert answer.status_code == 200, answer.text
        task_id: int = answer.json()["id"]
        return task_id

    def annotate(self, actor: Actor, task_id: int) -> None:
        answer = self.client.post(
            f"/api/tasks/{task_id}/annotations", json={"result": RESULT}, headers=actor.headers
        )
        assert answer.status_code == 201, answer.text


MakeWorld = Callable[..., World]


@pytest.fixture()
def make_world(stack: Any, cast: Any, make_project: Any) -> MakeWorld:
    def make(tasks: int = 6, **settings: Any) -> World:
        assignment = {"label_stream_task_distribution": "assigned_only", **settings}
        project = make_project(assignment_settings=assignment)
        reviewer = create_actor(
            stack.project_runtime.database,
            organization_id=cast.owner.organization_id,
            role=Role.REVIEWER,
            secret=stack.common.resolved_secret_key(),
        )
        admitted = stack.project.post(
            f"/api/projects/{project}/members/",
            json={"user": reviewer.user_id},
            headers=cast.owner.headers,
        )
        assert admitted.status_code == 201, admitted.text
        ids = []
        for number in range(tasks):
            answer = stack.task.post(
                "/api/tasks",
                json={"project": project, "data": {"text": f"text {number}"}},
                headers=cast.owner.headers,
            )
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["id"])
        return World(stack=stack, cast=cast, reviewer=reviewer, project=project, tasks=ids)

    return make


@pytest.fixture()
def world(make_world: MakeWorld) -> World:
    return make_world(max_tasks_per_person=3)

"""A project with tasks to move through their states, and the rows that record them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from task_svc.fsm.models import StateRecord
from task_svc.tasks.models import Task


def region(choice: str = "Positive") -> dict[str, Any]:
    return {
        "id": "r1",
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [choice]},
    }


@dataclass
class World:
    stack: Any
    client: TestClient
    cast: Any
    project: int

    def task(self, actor: Any = None, project: int | None = None) -> int:
        answer = self.client.post(
            "/api/tasks",
            json={"project": project or self.project, "data": {"text": "hi"}},
            headers=(actor or self.cast.owner).headers,
        )
        assert answer.status_code == 201, answer.text
        task_id: int = answer.json()["id"]
        return task_id

    def annotate(self, task_id: int, actor: Any = None) -> int:
        answer = self.client.post(
            f"/api/tasks/{task_id}/annotations",
            json={"result": [region()]},
            headers=(actor or self.cast.annotator).headers,
        )
        assert answer.status_code == 201, answer.text
        annotation_id: int = answer.json()["id"]
        return annotation_id

    def history(self, entity: str, entity_id: int, actor: Any = None, **params: Any) -> Any:
        return self.client.get(
            f"/api/fsm/entities/{entity}/{entity_id}/history",
            params=params,
            headers=(actor or self.cast.owner).headers,
        )

    def transitions(self, entity: str, entity_id: int) -> list[tuple[str | None, str, str | None]]:
        """(previous_state, state, transition_name) oldest first, as served."""
        answer = self.history(entity, entity_id, ordering="id")
        assert answer.status_code == 200, answer.text
        return [
            (row["previous_state"], row["state"], row["transition_name"])
            for row in answer.json()["results"]
        ]

    def transition(
        self, entity: str, entity_id: int, name: str, actor: Any = None, **body: Any
    ) -> Any:
        return self.client.post(
            f"/api/fsm/entities/{entity}/{entity_id}/transition/",
            json={"transition_name": name, **body},
            headers=(actor or self.cast.manager).headers,
        )

    def rows(self, entity: str, entity_id: int) -> list[StateRecord]:
        with self.stack.task_runtime.database.session() as session:
            return list(
                session.scalars(
                    select(StateRecord)
                    .where(StateRecord.entity_name == entity, StateRecord.entity_id == entity_id)
                    .order_by(StateRecord.id)
                )
            )

    def stored_task_state(self, task_id: int) -> str | None:
        with self.stack.task_runtime.database.session() as session:
            return session.scalar(select(Task.fsm_state).where(Task.id == task_id))


@pytest.fixture()
def world(stack: Any, client: TestClient, cast: Any, make_project: Any) -> World:
    return World(stack=stack, client=client, cast=cast, project=make_project())

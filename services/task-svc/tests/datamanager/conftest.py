"""A project with helpers to fill it through the real endpoints and to read the DB after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from task_svc.annotations.models import Annotation
from task_svc.counts import service as counts
from task_svc.predictions.models import Prediction
from task_svc.tasks.models import Task

CONFIG = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
</View>
"""


def choice(label: str) -> list[dict[str, Any]]:
    return [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


@dataclass
class World:
    stack: Any
    cast: Any
    project: int

    @property
    def client(self) -> Any:
        return self.stack.task

    def task(self, text: str = "hello", **data: Any) -> int:
        answer = self.client.post(
            "/api/tasks",
            json={"project": self.project, "data": {"text": text, **data}},
            headers=self.cast.owner.headers,
        )
        assert answer.status_code == 201, answer.text
        task_id: int = answer.json()["id"]
        return task_id

    def annotate(
        self, task_id: int, actor: Any = None, label: str = "Positive", **extra: Any
    ) -> int:
        answer = self.client.post(
            f"/api/tasks/{task_id}/annotations",
            json={"result": choice(label), **extra},
            headers=(actor or self.cast.owner).headers,
        )
        assert answer.status_code == 201, answer.text
        annotation_id: int = answer.json()["id"]
        return annotation_id

    def predict(
        self, task_id: int, label: str = "Positive", model_version: str = "v1", score: Any = None
    ) -> int:
        answer = self.client.post(
            "/api/predictions",
            json={
                "task": task_id,
                "result": choice(label),
                "model_version": model_version,
                "score": score,
            },
            headers=self.cast.owner.headers,
        )
        assert answer.status_code == 201, answer.text
        prediction_id: int = answer.json()["id"]
        return prediction_id

    def tasks(self, actor: Any = None, query: dict[str, Any] | None = None, **params: Any) -> Any:
        params.setdefault("project", self.project)
        if query is not None:
            params["query"] = json.dumps(query)
        return self.client.get(
            "/api/tasks", params=params, headers=(actor or self.cast.owner).headers
        )

    def ids(self, query: dict[str, Any] | None = None, **params: Any) -> list[int]:
        answer = self.tasks(query=query, **params)
        assert answer.status_code == 200, answer.text
        return [task["id"] for task in answer.json()["tasks"]]

    def action(
        self,
        action_id: str | None,
        body: dict[str, Any] | None = None,
        actor: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        params: dict[str, Any] = {"project": self.project}
        if action_id is not None:
            params["id"] = action_id
        return self.client.post(
            "/api/dm/actions",
            params=params,
            json=body or {},
            headers=headers if headers is not None else (actor or self.cast.owner).headers,
        )

    def counters(self) -> dict[str, int]:
        with self.stack.task_runtime.database.session() as session:
            return counts.get_project_counts(session, project_ids=[self.project])[self.project]

    def task_rows(self) -> dict[int, Task]:
        with self.stack.task_runtime.database.session() as session:
            rows = session.scalars(select(Task).where(Task.project_id == self.project))
            found = {task.id: task for task in rows}
            session.expunge_all()
            return found

    def annotation_rows(self) -> list[Annotation]:
        with self.stack.task_runtime.database.session() as session:
            rows = list(
                session.scalars(
                    select(Annotation)
                    .where(Annotation.project_id == self.project)
                    .order_by(Annotation.id)
                )
            )
            session.expunge_all()
            return rows

    def prediction_rows(self) -> list[Prediction]:
        with self.stack.task_runtime.database.session() as session:
            rows = list(
                session.scalars(
                    select(Prediction)
                    .where(Prediction.project_id == self.project)
                    .order_by(Prediction.id)
                )
            )
            session.expunge_all()
            return rows

    def assert_counters_exact(self) -> None:
        """The project's counters equal what a recount of its rows gives."""
        rows = self.task_rows()
        annotations = self.annotation_rows()
        predictions = self.prediction_rows()
        for task in rows.values():
            mine = [a for a in annotations if a.task_id == task.id]
            finished = [a for a in mine if not a.was_cancelled]
            assert task.total_annotations == len(finished), task.id
            assert task.cancelled_annotations == sum(a.was_cancelled for a in mine), task.id
            labeled = len({a.completed_by_id for a in finished}) >= max(task.overlap, 1)
            assert task.is_labeled == labeled, task.id
            assert (task.completed_at is not None) == labeled, task.id
            assert task.total_predictions == sum(p.task_id == task.id for p in predictions)
        finished_all = [a for a in annotations if not a.was_cancelled]
        assert self.counters() | {"last": 0} == {
            "task_number": len(rows),
            "finished_task_number": sum(t.is_labeled for t in rows.values()),
            "total_annotations_number": len(finished_all),
            "skipped_annotations_number": sum(a.was_cancelled for a in annotations),
            "ground_truth_number": sum(a.ground_truth for a in annotations),
            # Label Studio's rule: not skipped and not ground truth.
            "useful_annotation_number": sum(not a.ground_truth for a in finished_all),
            "num_tasks_with_annotations": len({a.task_id for a in finished_all}),
            "total_predictions_number": len(predictions),
            "last": 0,
        }


@pytest.fixture()
def world(stack: Any, cast: Any, make_project: Any) -> World:
    return World(stack=stack, cast=cast, project=make_project(label_config=CONFIG))


def headers_of(cast: Any, who: str) -> dict[str, str]:
    if who == "anonymous":
        return {}
    result: dict[str, str] = getattr(cast, who).headers
    return result


__all__ = ["CONFIG", "World", "choice", "headers_of"]

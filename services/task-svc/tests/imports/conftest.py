"""Import test fixtures: `db` reads task-svc's tables straight, for asserting DB state."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from task_svc.annotations.models import Annotation
from task_svc.counts import service as counts
from task_svc.imports.models import FileUpload, ImportJob
from task_svc.predictions.models import Prediction
from task_svc.tasks.models import Task


class Db:
    def __init__(self, stack: Any) -> None:
        self.stack = stack

    def rows(self, model: Any, project: int) -> int:
        with self.stack.task_runtime.database.session() as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(model).where(model.project_id == project)
                )
                or 0
            )

    def task_count(self, project: int) -> int:
        return self.rows(Task, project)

    def state(self, project: int) -> dict[str, int]:
        """Everything an import writes, counted straight from the tables."""
        return {
            "tasks": self.rows(Task, project),
            "annotations": self.rows(Annotation, project),
            "predictions": self.rows(Prediction, project),
            "file_uploads": self.rows(FileUpload, project),
        }

    def counts(self, project: int) -> dict[str, int]:
        with self.stack.task_runtime.database.session() as session:
            return counts.get_project_counts(session, project_ids=[project])[project]

    def jobs(self, project: int) -> list[ImportJob]:
        with self.stack.task_runtime.database.session() as session:
            return list(
                session.scalars(
                    select(ImportJob).where(ImportJob.project_id == project).order_by(ImportJob.id)
                )
            )

    def tasks(self, project: int) -> list[Task]:
        with self.stack.task_runtime.database.session() as session:
            return list(
                session.scalars(select(Task).where(Task.project_id == project).order_by(Task.id))
            )


@pytest.fixture()
def db(stack: Any) -> Db:
    return Db(stack)


TXT_CONFIG = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
</View>
"""


def choice(label: str = "Positive") -> list[dict[str, Any]]:
    return [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


def url(project: int, query: str = "") -> str:
    return f"/api/projects/{project}/import{query}"

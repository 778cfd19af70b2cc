"""Data-field index tests: they compare every answer of the index path with the plain
path's on the same rows."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from labelops_common.queue import app as queue_app
from prometheus_client import REGISTRY
from sqlalchemy import text
from task_svc.datamanager import service as dm
from task_svc.fieldindexes import service as fieldindexes

CONFIG = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>
"""


@pytest.fixture(autouse=True)
def builds_run_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds run on a thread here even when an earlier test left a Celery app configured
    in the process: its queued message would wait for a worker no test runs."""
    monkeypatch.setattr(queue_app, "labelops_celery_app", lambda: None)


def query(
    *, category: Any = None, order: str | None = None, type_: str = "String"
) -> dict[str, Any]:
    """A data-manager query: `category` equal to a value and/or one ordering."""
    body: dict[str, Any] = {}
    if category is not None:
        body["filters"] = {
            "conjunction": "and",
            "items": [
                {
                    "filter": "filter:tasks:data.category",
                    "operator": "equal",
                    "type": type_,
                    "value": category,
                }
            ],
        }
    if order is not None:
        body["ordering"] = [order]
    return body


def index_path_count() -> float:
    return REGISTRY.get_sample_value("labelops_dm_list_queries_total", {"path": "field_index"}) or 0


def plain_path_count() -> float:
    return REGISTRY.get_sample_value("labelops_dm_list_queries_total", {"path": "plain"}) or 0


@dataclass
class Project:
    stack: Any
    cast: Any
    id: int

    @property
    def client(self) -> Any:
        return self.stack.task

    @property
    def database(self) -> Any:
        return self.stack.task_runtime.database

    def create(self, data: dict[str, Any]) -> int:
        answer = self.client.post(
            "/api/tasks", json={"project": self.id, "data": data}, headers=self.cast.owner.headers
        )
        assert answer.status_code == 201, answer.text
        task_id: int = answer.json()["id"]
        return task_id

    def import_(self, items: list[dict[str, Any]]) -> None:
        answer = self.client.post(
            f"/api/projects/{self.id}/import", json=items, headers=self.cast.owner.headers
        )
        assert answer.status_code == 201, answer.text

    def page(
        self, body: dict[str, Any], *, page: int = 1, size: int = 100
    ) -> tuple[list[int], int]:
        answer = self.client.get(
            "/api/tasks",
            params={
                "project": self.id,
                "page": page,
                "page_size": size,
                "fields": "task_only",
                "query": json.dumps(body),
            },
            headers=self.cast.owner.headers,
        )
        assert answer.status_code == 200, answer.text
        found = answer.json()
        return [task["id"] for task in found["tasks"]], int(found["total"])

    def save_view(self, body: dict[str, Any]) -> int:
        answer = self.client.post(
            "/api/dm/views",
            json={"project": self.id, "data": body},
            headers=self.cast.owner.headers,
        )
        assert answer.status_code == 201, answer.text
        view_id: int = answer.json()["id"]
        return view_id

    def definitions(self) -> list[dict[str, Any]]:
        answer = self.client.get(
            "/api/dm/field-indexes", params={"project": self.id}, headers=self.cast.owner.headers
        )
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()
        return found

    def wait_ready(self, timeout: float = 60.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.definitions()
            if found and all(d["state"] == "ready" for d in found):
                return found
            assert all(d["state"] != "failed" for d in found), found
            assert time.monotonic() < deadline, f"not ready: {found}"
            time.sleep(0.05)

    def plain(self, body: dict[str, Any]) -> tuple[list[int], int]:
        """Every selected id in order, and the total, by the plain path (no index)."""
        with self.database.session() as session:
            compiled = dm.compile_selection(
                session, project_id=self.id, selection=dm.selection_from(body)
            )
            ids = dm.page_ids(session, compiled, page=1, size=dm.MAX_PAGE_SIZE)
            total = dm._count_selection(session, compiled)[0]
        return ids, total

    def usable(self, body: dict[str, Any]) -> fieldindexes.UsableIndex | None:
        with self.database.session() as session:
            compiled = dm.compile_selection(
                session, project_id=self.id, selection=dm.selection_from(body)
            )
            return fieldindexes.index_for_list(
                session, project_id=self.id, shape=compiled.data_field_shape, min_tasks=None
            )

    def assert_same_as_plain(self, body: dict[str, Any], *, size: int = 7) -> None:
        """Every page the index path serves (over HTTP) equals the plain path's slice."""
        assert self.usable(body) is not None, "the index path would not be taken"
        expected, expected_total = self.plain(body)
        with self.database.session() as session:
            usable = self.usable(body)
            assert usable is not None
            assert fieldindexes.count_entries(session, usable) == expected_total
            assert (
                fieldindexes.page_task_ids(session, usable, offset=0, limit=len(expected) + 5)
                == expected
            )
        pages = max(1, -(-len(expected) // size))
        for number in range(1, pages + 1):
            before = index_path_count()
            ids, total = self.page(body, page=number, size=size)
            assert index_path_count() == before + 1
            assert ids == expected[(number - 1) * size : number * size], (body, number)
            assert total == expected_total

    def assert_entries_exact(self) -> None:
        """The entries are exactly what `data_field_entry` computes from today's tasks."""
        with self.database.session() as session:
            missing_or_wrong = session.execute(
                text(
                    """
                    SELECT d.id, t.id FROM data_field_indexes d
                    JOIN tasks t ON t.project_id = d.project_id
                    CROSS JOIN LATERAL data_field_entry(t.data, d.filter_key, d.order_key) v
                    WHERE d.project_id = :p AND d.state = 'ready' AND NOT EXISTS (
                        SELECT 1 FROM data_field_entries e
                        WHERE e.index_id = d.id AND e.task_id = t.id
                          AND e.filter_text IS NOT DISTINCT FROM v.filter_text
                          AND e.order_value IS NOT DISTINCT FROM v.order_value
                          AND e.is_exact = v.is_exact)
                    """
                ),
                {"p": self.id},
            ).all()
            orphans = session.execute(
                text(
                    """
                    SELECT e.index_id, e.task_id FROM data_field_entries e
                    JOIN data_field_indexes d ON d.id = e.index_id
                    WHERE d.project_id = :p AND NOT EXISTS (
                        SELECT 1 FROM tasks t WHERE t.id = e.task_id AND t.project_id = :p)
                    """
                ),
                {"p": self.id},
            ).all()
        assert missing_or_wrong == []
        assert orphans == []


@pytest.fixture()
def new_project(stack: Any, cast: Any, make_project: Any) -> Any:
    def make() -> Project:
        return Project(stack=stack, cast=cast, id=make_project(label_config=CONFIG))

    return make


@pytest.fixture()
def project(new_project: Any) -> Project:
    made: Project = new_project()
    return made

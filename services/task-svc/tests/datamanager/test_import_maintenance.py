"""After a large import the data manager's id walks are index-only scans (PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text
from task_svc.imports import jobs

#: The id walk of "unlabeled, newest first" (datamanager.service.page_ids), a deep page.
ID_WALK = (
    "EXPLAIN (ANALYZE, COSTS OFF) SELECT id FROM tasks"
    " WHERE project_id = :project AND total_annotations = 0"
    " ORDER BY id DESC OFFSET 200 LIMIT 100"
)


@pytest.fixture()
def queued(stack: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every import is queued and counts as large; messages are captured, not sent."""
    captured: list[int] = []
    monkeypatch.setattr(
        jobs._Dispatch, "apply_async", lambda _self, args=(), kwargs=None: captured.append(args[0])
    )
    monkeypatch.setattr(jobs, "MAINTAIN_AFTER_TASKS", 1)
    settings = stack.task_runtime.http_app.state.settings
    monkeypatch.setattr(settings, "import_sync_max_bytes", 10)
    jobs.configure(
        database=stack.task_runtime.database,
        projects=stack.task_runtime.http_app.state.project_directory,
        settings=settings,
        common=stack.common,
    )
    return captured


def test_the_id_walk_reads_no_heap_after_a_large_import(
    stack: Any, cast: Any, make_project: Any, backend: str, queued: list[int]
) -> None:
    project = make_project()
    answer = stack.task.post(
        f"/api/projects/{project}/import",
        json=[{"text": f"t{i}"} for i in range(2000)],
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    assert jobs.run_import_job(queued[0]) == "succeeded"
    with stack.task_runtime.database.session() as session:
        imported = session.scalar(
            text("SELECT count(*) FROM tasks WHERE project_id = :project"), {"project": project}
        )
    assert imported == 2000
    if backend != "postgresql":
        return  # SQLite has no visibility map: the maintenance step does nothing there
    with stack.task_runtime.database.session() as session:
        # A table this small would rather be sorted; the question is what the walk reads.
        session.execute(text("SET LOCAL enable_seqscan TO off"))
        session.execute(text("SET LOCAL enable_bitmapscan TO off"))
        plan = "\n".join(session.scalars(text(ID_WALK), {"project": project}))
    assert "Index Only Scan" in plan, plan
    assert re.search(r"Heap Fetches: 0\b", plan), plan

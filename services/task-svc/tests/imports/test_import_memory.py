"""A large import is streamed: peak Python memory stays far below the body's size."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

from labelops_common.artifacts.local import LocalArtifactStorage
from task_svc.imports import service as imports
from task_svc.imports import uploads

TASKS = 50_000


def test_fifty_thousand_tasks_in_bounded_memory(
    stack: Any, cast: Any, make_project: Any, db: Any, data_dir: Any
) -> None:
    project_id = make_project()
    project = stack.task_runtime.http_app.state.project_directory.get(project_id)
    relative = uploads.new_body_path(".jsonl")
    padding = "x" * 180
    (data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
    with (data_dir / relative).open("w", encoding="utf-8") as body:
        for index in range(TASKS):
            body.write(f'{{"text": "task {index} {padding}", "n": {index}}}\n')
    size = (data_dir / relative).stat().st_size
    assert size > 10 * 1024 * 1024

    request = imports.ImportRequest(
        project_id=project_id,
        user_id=cast.owner.user_id,
        user_email=cast.owner.email,
        sources=[imports.Source(path=relative, filename="body.jsonl")],
        options=imports.ImportOptions(),
        temporary_paths=[relative],
    )
    gc.collect()
    tracemalloc.start()
    try:
        with stack.task_runtime.database.session() as session:
            response = imports.execute_import(
                session,
                project=project,
                request=request,
                storage=LocalArtifactStorage(data_dir),
                limits=imports.Limits(batch_size=500),
            )
            session.commit()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        uploads.remove(LocalArtifactStorage(data_dir), relative)
    assert response["task_count"] == TASKS
    assert db.task_count(project_id) == TASKS
    assert db.counts(project_id)["task_number"] == TASKS
    # One batch of 500 tasks is in memory at a time, not 50,000 (the body is ~11 MB;
    # holding every task would take well over 100 MB).
    assert peak < size / 3, f"peak {peak} bytes for a {size}-byte body"

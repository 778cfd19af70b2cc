"""task-svc's view of projects: found projects are cached briefly, unknown ids never are."""

from __future__ import annotations


def test_a_project_created_right_after_a_miss_is_found_at_once(stack, cast, make_project) -> None:
    existing = make_project()
    next_id = existing + 1
    missed = stack.task.post(
        f"/api/projects/{next_id}/import", json=[{"text": "early"}], headers=cast.owner.headers
    )
    assert missed.status_code == 404
    created = make_project()
    assert created == next_id
    answer = stack.task.post(
        f"/api/projects/{created}/import",
        json=[{"text": "right after"}],
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["task_count"] == 1

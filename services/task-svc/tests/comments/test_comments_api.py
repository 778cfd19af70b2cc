"""`/api/comments/`: the permission matrix, the task's counters after each write, visibility
following the annotations', bad input refused with nothing changed, and the data manager's
`comments` / `unresolved_comment_count` columns."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from task_svc.comments.models import Comment
from task_svc.tasks.models import Task

CHOICE = [
    {
        "id": "r1",
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


def _task(stack: Any, cast: Any, project: int, text: str = "hi") -> int:
    made = stack.task.post(
        "/api/tasks", json={"project": project, "data": {"text": text}}, headers=cast.owner.headers
    )
    assert made.status_code == 201, made.text
    task_id: int = made.json()["id"]
    return task_id


def _annotation(stack: Any, actor: Any, task_id: int) -> int:
    made = stack.task.post(
        f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}, headers=actor.headers
    )
    assert made.status_code == 201, made.text
    annotation_id: int = made.json()["id"]
    return annotation_id


def _counters(stack: Any, task_id: int) -> tuple[int, int]:
    with stack.task_runtime.database.session() as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task.comment_count, task.unresolved_comment_count


def _comment_rows(stack: Any, task_id: int) -> int:
    with stack.task_runtime.database.session() as session:
        return int(session.scalar(select(func.count()).where(Comment.task_id == task_id)) or 0)


def test_comment_resolve_reopen_delete_keep_the_task_counters(
    stack: Any, cast: Any, make_project: Any
) -> None:
    project = make_project()
    task_id = _task(stack, cast, project)
    annotation_id = _annotation(stack, cast.annotator, task_id)
    made = stack.task.post(
        "/api/comments/",
        json={"text": "Is this positive?", "annotation": annotation_id},
        headers=cast.annotator.headers,
    )
    assert made.status_code == 201, made.text
    comment = made.json()
    assert comment["task"] == task_id and comment["annotation"] == annotation_id
    assert comment["project"] == project and comment["created_by"] == cast.annotator.user_id
    assert comment["is_resolved"] is False and comment["resolved_at"] is None
    assert _counters(stack, task_id) == (1, 1)
    task = stack.task.get(f"/api/tasks/{task_id}", headers=cast.owner.headers).json()
    assert (task["comment_count"], task["unresolved_comment_count"]) == (1, 1)
    assert task["last_comment_updated_at"] is not None

    path = f"/api/comments/{comment['id']}/"
    resolved = stack.task.patch(path, json={"is_resolved": True}, headers=cast.manager.headers)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["is_resolved"] is True and resolved.json()["resolved_at"] is not None
    assert _counters(stack, task_id) == (1, 0)
    # Resolving twice moves nothing.
    stack.task.patch(path, json={"is_resolved": True}, headers=cast.manager.headers)
    assert _counters(stack, task_id) == (1, 0)
    reopened = stack.task.patch(path, json={"is_resolved": False}, headers=cast.annotator.headers)
    assert reopened.json()["resolved_at"] is None
    assert _counters(stack, task_id) == (1, 1)
    edited = stack.task.patch(
        path, json={"text": "Positive, sure."}, headers=cast.annotator.headers
    )
    assert edited.status_code == 200 and edited.json()["text"] == "Positive, sure."

    assert stack.task.delete(path, headers=cast.annotator.headers).status_code == 204
    assert _counters(stack, task_id) == (0, 0)
    assert stack.task.get(path, headers=cast.annotator.headers).status_code == 404


def test_a_comment_on_the_task_and_expanded_author(
    stack: Any, cast: Any, make_project: Any
) -> None:
    project = make_project()
    task_id = _task(stack, cast, project)
    made = stack.task.post(
        "/api/comments/?expand_created_by=true",
        json={"text": "Blurry image", "task": task_id, "is_resolved": True},
        headers=cast.annotator.headers,
    )
    assert made.status_code == 201, made.text
    assert made.json()["annotation"] is None
    assert made.json()["created_by"]["id"] == cast.annotator.user_id
    assert made.json()["created_by"]["email"] == cast.annotator.email
    assert _counters(stack, task_id) == (1, 0)


def test_bad_input_names_the_field_and_changes_nothing(
    stack: Any, cast: Any, make_project: Any
) -> None:
    project = make_project()
    task_id = _task(stack, cast, project)
    other_task = _task(stack, cast, project, "other")
    annotation_id = _annotation(stack, cast.annotator, task_id)
    cases = [
        ({"text": "no target"}, "annotation"),
        ({"text": "", "task": task_id}, "text"),
        ({"task": task_id}, "text"),
        ({"text": "x" * 10_001, "task": task_id}, "text"),
        ({"text": "wrong task", "task": other_task, "annotation": annotation_id}, "task"),
        ({"text": "bad id", "task": "abc"}, "task"),
    ]
    for body, field in cases:
        answer = stack.task.post("/api/comments/", json=body, headers=cast.annotator.headers)
        assert answer.status_code == 400, (body, answer.text)
        assert field in answer.json()["validation_errors"], (body, answer.json())
    assert _comment_rows(stack, task_id) == 0 and _comment_rows(stack, other_task) == 0
    assert _counters(stack, task_id) == (0, 0)
    listed = stack.task.get("/api/comments/", headers=cast.owner.headers)
    assert listed.status_code == 400 and "project" in listed.json()["validation_errors"]
    ordering = stack.task.get(
        f"/api/comments/?project={project}&ordering=text", headers=cast.owner.headers
    )
    assert ordering.status_code == 400 and "ordering" in ordering.json()["validation_errors"]


def test_who_may_do_what(stack: Any, cast: Any, make_project: Any) -> None:
    project = make_project()
    task_id = _task(stack, cast, project)
    made = stack.task.post(
        "/api/comments/", json={"text": "mine", "task": task_id}, headers=cast.annotator.headers
    )
    assert made.status_code == 201
    path = f"/api/comments/{made.json()['id']}/"
    # Another annotator sees a comment on the task and may resolve it, not rewrite or delete it.
    assert stack.task.get(path, headers=cast.annotator2.headers).status_code == 200
    rewrite = stack.task.patch(path, json={"text": "theirs"}, headers=cast.annotator2.headers)
    assert rewrite.status_code == 403 and "text" in rewrite.json()["validation_errors"]
    assert (
        stack.task.patch(path, json={"text": "x"}, headers=cast.manager.headers).status_code == 403
    )
    assert stack.task.delete(path, headers=cast.annotator2.headers).status_code == 403
    # Another organization does not find it; nobody anonymous gets in.
    assert stack.task.get(path, headers=cast.outsider.headers).status_code == 404
    assert stack.task.delete(path, headers=cast.outsider.headers).status_code == 404
    outsider_post = stack.task.post(
        "/api/comments/", json={"text": "spam", "task": task_id}, headers=cast.outsider.headers
    )
    assert outsider_post.status_code == 404
    assert stack.task.get(path).status_code == 401
    assert stack.task.post("/api/comments/", json={"text": "a", "task": task_id}).status_code == 401
    assert _comment_rows(stack, task_id) == 1
    with stack.task_runtime.database.session() as session:
        comment = session.get(Comment, made.json()["id"])
        assert comment is not None and comment.text == "mine"
    # Managers delete anyone's.
    assert stack.task.delete(path, headers=cast.manager.headers).status_code == 204
    assert _comment_rows(stack, task_id) == 0 and _counters(stack, task_id) == (0, 0)


def test_comments_on_a_hidden_annotation_are_hidden(
    stack: Any, cast: Any, make_project: Any
) -> None:
    project = make_project()
    task_id = _task(stack, cast, project)
    theirs = _annotation(stack, cast.annotator2, task_id)
    on_theirs = stack.task.post(
        "/api/comments/",
        json={"text": "on theirs", "annotation": theirs},
        headers=cast.manager.headers,
    ).json()
    on_task = stack.task.post(
        "/api/comments/", json={"text": "on task", "task": task_id}, headers=cast.manager.headers
    ).json()
    path = f"/api/comments/{on_theirs['id']}/"
    assert stack.task.get(path, headers=cast.annotator.headers).status_code == 404
    assert (
        stack.task.patch(
            path, json={"is_resolved": True}, headers=cast.annotator.headers
        ).status_code
        == 404
    )
    listed = stack.task.get(f"/api/comments/?task={task_id}", headers=cast.annotator.headers)
    assert [c["id"] for c in listed.json()] == [on_task["id"]]
    by_annotation = stack.task.get(
        f"/api/comments/?annotation={theirs}", headers=cast.annotator.headers
    )
    assert by_annotation.status_code == 404
    commenting = stack.task.post(
        "/api/comments/",
        json={"text": "peek", "annotation": theirs},
        headers=cast.annotator.headers,
    )
    assert commenting.status_code == 404
    assert _counters(stack, task_id) == (2, 2)
    # The author of the annotation and the manager see both.
    for actor in (cast.annotator2, cast.manager):
        seen = stack.task.get(f"/api/comments/?project={project}", headers=actor.headers).json()
        assert [c["id"] for c in seen] == [on_theirs["id"], on_task["id"]]


def test_the_project_setting_shows_comments_on_others_annotations(
    stack: Any, cast: Any, make_project: Any
) -> None:
    project = make_project(annotators_see_others_annotations=True)
    task_id = _task(stack, cast, project)
    theirs = _annotation(stack, cast.annotator2, task_id)
    made = stack.task.post(
        "/api/comments/",
        json={"text": "agree?", "annotation": theirs},
        headers=cast.annotator.headers,
    )
    assert made.status_code == 201, made.text
    listed = stack.task.get(f"/api/comments/?annotation={theirs}", headers=cast.annotator2.headers)
    assert [c["id"] for c in listed.json()] == [made.json()["id"]]


def test_list_filters_and_pages(stack: Any, cast: Any, make_project: Any) -> None:
    project = make_project()
    other_project = make_project()
    first, second = _task(stack, cast, project), _task(stack, cast, project, "two")
    elsewhere = _task(stack, cast, other_project)
    ids = [
        stack.task.post(
            "/api/comments/", json={"text": f"c{n}", "task": task}, headers=cast.owner.headers
        ).json()["id"]
        for n, task in enumerate([first, first, second, elsewhere])
    ]

    def listed(query: str) -> Any:
        answer = stack.task.get(f"/api/comments/?{query}", headers=cast.owner.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert [c["id"] for c in listed(f"task={first}")] == ids[:2]
    assert [c["id"] for c in listed(f"project={project}")] == ids[:3]
    assert [c["id"] for c in listed(f"project={project}&ordering=-id")] == ids[2::-1]
    assert [c["id"] for c in listed(f"projects={project},{other_project}")] == ids
    page = listed(f"project={project}&page=1&page_size=2")
    assert page["count"] == 3 and [c["id"] for c in page["results"]] == ids[:2]
    assert page["next"] is not None and page["previous"] is None
    last = listed(f"project={project}&page=2&page_size=2")
    assert [c["id"] for c in last["results"]] == ids[2:3] and last["next"] is None
    past = stack.task.get(
        f"/api/comments/?project={project}&page=3&page_size=2", headers=cast.owner.headers
    )
    assert past.status_code == 404


def test_the_data_manager_filters_and_orders_on_comment_counts(
    stack: Any, cast: Any, make_project: Any
) -> None:
    project = make_project()
    tasks = [_task(stack, cast, project, f"t{n}") for n in range(3)]
    for task, (total, resolved) in zip(tasks, [(0, 0), (2, 1), (1, 1)], strict=True):
        for n in range(total):
            stack.task.post(
                "/api/comments/",
                json={"text": "c", "task": task, "is_resolved": n < resolved},
                headers=cast.owner.headers,
            )

    def ids(query: dict[str, Any]) -> list[int]:
        answer = stack.task.get(
            "/api/tasks",
            params={"project": project, "query": json.dumps(query)},
            headers=cast.owner.headers,
        )
        assert answer.status_code == 200, answer.text
        return [t["id"] for t in answer.json()["tasks"]]

    def above_zero(column: str) -> dict[str, Any]:
        item = {
            "filter": f"filter:tasks:{column}",
            "operator": "greater",
            "type": "Number",
            "value": 0,
        }
        return {"filters": {"conjunction": "and", "items": [item]}}

    assert ids(above_zero("comments")) == tasks[1:]
    assert ids(above_zero("unresolved_comment_count")) == [tasks[1]]
    assert ids({"ordering": ["-tasks:comments"]}) == [tasks[1], tasks[2], tasks[0]]
    rows = stack.task.get(
        "/api/tasks", params={"project": project}, headers=cast.owner.headers
    ).json()["tasks"]
    assert {r["id"]: r["comment_authors"] for r in rows} == {
        tasks[0]: [],
        tasks[1]: [cast.owner.user_id],
        tasks[2]: [cast.owner.user_id],
    }
    assert {r["id"]: (r["comments"], r["unresolved_comment_count"]) for r in rows} == {
        tasks[0]: (0, 0),
        tasks[1]: (2, 1),
        tasks[2]: (1, 0),
    }
    columns = stack.task.get(f"/api/dm/columns?project={project}", headers=cast.owner.headers)
    names = {c["id"] for c in columns.json()["columns"]}
    assert {"comments", "unresolved_comment_count"} <= names

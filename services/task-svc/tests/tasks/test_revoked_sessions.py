"""task-svc asks project-svc about every session cookie and access token (cached for
`token_cache_seconds`): a deleted user's, or one for a user that never existed, writes nothing."""

from __future__ import annotations

from typing import Any

from labelops_common.auth.authenticate import SESSION_COOKIE, csrf_token_for
from labelops_common.auth.jwt_tokens import encode_token
from labelops_common.auth.principal import Role
from labelops_testing.actors import TEST_PASSWORD
from sqlalchemy import func, select
from task_svc.annotations.models import Annotation

CHOICE = [
    {
        "id": "r1",
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


def _annotation_count(stack: Any, task_id: int) -> int:
    with stack.task_runtime.database.session() as session:
        return int(session.scalar(select(func.count()).where(Annotation.task_id == task_id)) or 0)


def _annotate(stack: Any, task_id: int, *, cookie: str | None = None, bearer: str | None = None):
    stack.task.cookies.clear()
    headers: dict[str, str] = {}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    if cookie:
        secret = stack.task_runtime.http_app.state.common_settings.resolved_secret_key()
        headers["X-CSRFToken"] = csrf_token_for(cookie, secret=secret)
        stack.task.cookies.set(SESSION_COOKIE, cookie)
    try:
        return stack.task.post(
            f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}, headers=headers
        )
    finally:
        stack.task.cookies.clear()


def _task(stack: Any, cast: Any, project: int) -> int:
    answer = stack.task.post(
        "/api/tasks", json={"project": project, "data": {"text": "hi"}}, headers=cast.owner.headers
    )
    assert answer.status_code == 201, answer.text
    task_id: int = answer.json()["id"]
    return task_id


def test_a_deleted_users_cookie_and_access_token_write_no_annotation(
    stack: Any, cast: Any, make_project: Any
) -> None:
    project = make_project()
    task_id = _task(stack, cast, project)
    signed_in = stack.project.post(
        "/user/login", json={"email": cast.annotator.email, "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    cookie = signed_in.cookies[SESSION_COOKIE]
    stack.project.cookies.clear()
    refresh = stack.project.post("/api/token", headers=cast.annotator.headers).json()["token"]
    access = stack.project.post("/api/token/refresh", json={"refresh": refresh}).json()["access"]

    deleted = stack.project.delete(
        f"/api/users/{cast.annotator.user_id}", headers=cast.owner.headers
    )
    assert deleted.status_code == 204

    assert _annotate(stack, task_id, cookie=cookie).status_code == 401
    assert _annotate(stack, task_id, bearer=access).status_code == 401
    assert _annotation_count(stack, task_id) == 0


def test_a_forged_token_for_a_user_that_does_not_exist_writes_no_annotation(
    stack: Any, cast: Any, make_project: Any
) -> None:
    project = make_project()
    task_id = _task(stack, cast, project)
    secret = stack.common.resolved_secret_key()
    for token_type in ("access", "session"):
        forged, _ = encode_token(
            secret=secret,
            token_type=token_type,  # type: ignore[arg-type]
            user_id=987_654_321,
            organization_id=cast.owner.organization_id,
            role=Role.OWNER,
            lifetime_seconds=600,
        )
        if token_type == "access":
            assert _annotate(stack, task_id, bearer=forged).status_code == 401
        else:
            assert _annotate(stack, task_id, cookie=forged).status_code == 401
    assert _annotation_count(stack, task_id) == 0


def test_a_live_session_still_annotates(stack: Any, cast: Any, make_project: Any) -> None:
    project = make_project()
    task_id = _task(stack, cast, project)
    signed_in = stack.project.post(
        "/user/login", json={"email": cast.annotator2.email, "password": TEST_PASSWORD}
    )
    cookie = signed_in.cookies[SESSION_COOKIE]
    stack.project.cookies.clear()
    created = _annotate(stack, task_id, cookie=cookie)
    assert created.status_code == 201, created.text
    assert created.json()["completed_by"] == cast.annotator2.user_id
    assert _annotation_count(stack, task_id) == 1

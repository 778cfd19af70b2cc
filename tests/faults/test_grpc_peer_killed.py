"""project-svc killed with SIGKILL: the services that ask it over gRPC answer a prompt 503
(within the gRPC deadline) rather than hanging or failing with a 500, and work again once it
is back."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from .conftest import Api, running_stack, stacks, timed, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

#: The stack's `LABELOPS_GRPC_DEADLINE_SECONDS`; a caller's answer may take that long, plus
#: the request's own work on a loaded machine.
DEADLINE_SECONDS = 5.0
PROMPT_SECONDS = DEADLINE_SECONDS + 2.0
#: ProjectDirectory caches a project this long; past it, every lookup asks project-svc.
PROJECT_CACHE_SECONDS = 5.0
#: How soon each caller succeeds again once project-svc answers.
RECOVERY_SECONDS = 10.0


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with running_stack(tmp_path_factory.mktemp("peer-killed")) as stack:
        yield Api(stack)


def requests_needing_project_svc(api: Api, project_id: int, task_id: int) -> dict[str, Any]:
    """One read and one write of each caller, each of which needs the project from
    project-svc."""
    return {
        "task-svc list tasks": lambda: api.call(
            "task-svc", "GET", f"/api/tasks?project={project_id}"
        ),
        "task-svc annotate": lambda: api.annotate(task_id),
        "export-svc list exports": lambda: api.call(
            "export-svc", "GET", f"/api/projects/{project_id}/exports"
        ),
        "export-svc create export": lambda: api.call(
            "export-svc", "POST", f"/api/projects/{project_id}/exports", json={}
        ),
        "ml-gateway list backends": lambda: api.call(
            "ml-gateway", "GET", f"/api/ml?project={project_id}"
        ),
    }


def test_callers_answer_a_prompt_503_while_project_svc_is_killed(api: Api) -> None:
    project_id = api.project()
    (task_id,) = api.tasks(project_id, ["good morning"])
    calls: dict[str, Callable[[], httpx.Response]] = requests_needing_project_svc(
        api, project_id, task_id
    )
    for name, call in calls.items():
        assert call().status_code in (200, 201), name
    annotations_before = api.call("task-svc", "GET", f"/api/tasks/{task_id}/annotations").json()

    peer = api.stack.services["project-svc"]
    peer.process.send_signal(signal.SIGKILL)
    assert peer.process.wait(10) == -signal.SIGKILL
    # Past every cache of the project (and of the caller's token, which stays valid).
    time.sleep(PROJECT_CACHE_SECONDS + 0.5)
    outcomes = {}
    for name, call in calls.items():
        response, seconds = timed(call)
        outcomes[name] = (response.status_code, round(seconds, 2))
        assert response.status_code == 503, (name, response.status_code, response.text)
        assert response.headers.get("Retry-After") == "1", name
        assert "project-svc is unavailable" in response.json()["detail"], name
        assert seconds < PROMPT_SECONDS, (name, seconds)
    print("while project-svc is down:", outcomes)

    stacks.relaunch(api.stack, peer)
    back_at = time.monotonic()
    # Each caller's channel reconnects on its own backoff (at most 2 s between tries).
    recovered = {}
    for name, call in calls.items():
        service = name.split(" ")[0]
        wait_for(
            lambda call=call: call().status_code in (200, 201),
            RECOVERY_SECONDS,
            f"{name} did not succeed again",
            api.stack.services[service],
        )
        recovered[name] = round(time.monotonic() - back_at, 2)
    print("succeeding again after (s):", recovered)
    # The refused annotation was not stored (one more, from the loop above, is).
    annotations_after = api.call("task-svc", "GET", f"/api/tasks/{task_id}/annotations").json()
    assert len(annotations_after) == len(annotations_before) + 1
    # The restarted project-svc serves the projects made before the kill.
    listed = api.call("project-svc", "GET", "/api/projects")
    assert listed.status_code == 200
    assert [project["id"] for project in listed.json()["results"]] == [project_id]

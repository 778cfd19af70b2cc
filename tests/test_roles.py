"""Issue 20, roles: the permission table of `labelops_common.auth.permissions`, cell by cell,
through the HTTP API of the single process, and annotation visibility through the official
SDK as an annotator and as a manager.

Each row of the table has a representative endpoint (`PROBES`); every role of one
organization calls it, and the answer must be let through (2xx) exactly where the table
says yes and refused (403, or 404 where the object is hidden) where it says no.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError
from labelops_common.auth.permissions import PERMISSIONS, Action, render_table
from labelops_common.auth.principal import Role
from labelops_common.db import Database
from labelops_runtime.suite import free_loopback_port
from labelops_testing.actors import Actor, create_actor, create_organization

from .conftest import (  # type: ignore[import-not-found]
    SECRET,
    RunningProcess,
    service_databases,
    start_labelops,
    stop,
)

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""
RESULT = [
    {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]
_numbers = itertools.count(1)


@dataclass
class World:
    server: RunningProcess
    http: httpx.Client
    database: Database
    organization: int
    founder: Actor
    actors: dict[Role, Actor]
    #: A project the reviewer and the annotator are members of, and one nobody is.
    project: int = 0
    closed_project: int = 0
    task: int = 0
    #: The founder's annotation of `task`.
    annotation: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def call(self, actor: Actor, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, url, headers=actor.headers, **kwargs)

    def made(self, method: str, url: str, **kwargs: Any) -> Any:
        answer = self.call(self.founder, method, url, **kwargs)
        assert answer.status_code < 300, f"{method} {url}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    def new_project(self, *members: Actor, **fields: Any) -> int:
        project: int = self.made(
            "POST", "/api/projects", json={"title": "Roles", "label_config": CONFIG, **fields}
        )["id"]
        for member in members:
            self.made("POST", f"/api/projects/{project}/members/", json={"user": member.user_id})
        return project


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from labelops_testing.databases import embedded_data_dir

    tmp = tmp_path_factory.mktemp("roles")
    port = free_loopback_port()
    env = {
        "LABELOPS_PORT": str(port),
        "LABELOPS_SECRET_KEY": SECRET,
        "LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
    }
    with embedded_data_dir() as data_dir, service_databases() as urls:
        env.update(urls, LABELOPS_DATA_DIR=str(data_dir))
        server = start_labelops(["serve", "--target", "all"], env, tmp / "labelops.log", port)
        database = Database.from_url(urls["LABELOPS_PROJECT_SVC_DATABASE_URL"], pool_size=1)
        http = httpx.Client(base_url=server.base_url, timeout=60)
        try:
            organization = create_organization(database, "Roles")
            founder = create_actor(
                database, organization_id=organization, role=Role.OWNER, secret=SECRET
            )
            actors = {
                role: create_actor(database, organization_id=organization, role=role, secret=SECRET)
                for role in Role
            }
            world = World(server, http, database, organization, founder, actors)
            world.project = world.new_project(actors[Role.REVIEWER], actors[Role.ANNOTATOR])
            world.closed_project = world.new_project()
            world.task = world.made(
                "POST", "/api/tasks", json={"project": world.project, "data": {"text": "hi"}}
            )["id"]
            world.annotation = world.made(
                "POST", f"/api/tasks/{world.task}/annotations", json={"result": RESULT}
            )["id"]
            yield world
        finally:
            http.close()
            database.engine.dispose()
            stop(server)


Probe = Callable[[World, Actor], httpx.Response]


def _founders_comment(world: World) -> int:
    comment_id: int = world.made(
        "POST", "/api/comments/", json={"text": "by the founder", "task": world.task}
    )["id"]
    return comment_id


#: One representative endpoint per row of the table.
PROBES: dict[Action, Probe] = {
    Action.VIEW_ORGANIZATION: lambda w, a: w.call(a, "GET", "/api/labels"),
    Action.MANAGE_ORGANIZATION: lambda w, a: w.call(
        a, "PATCH", f"/api/organizations/{w.organization}", json={"title": "Roles"}
    ),
    Action.VIEW_USERS: lambda w, a: w.call(a, "GET", "/api/users"),
    Action.MANAGE_USERS: lambda w, a: w.call(
        a, "POST", "/api/users", json={"email": f"new{next(_numbers)}@example.com"}
    ),
    Action.VIEW_ALL_PROJECTS: lambda w, a: w.call(a, "GET", f"/api/projects/{w.closed_project}"),
    Action.CREATE_PROJECT: lambda w, a: w.call(
        a, "POST", "/api/projects", json={"title": "Mine", "label_config": CONFIG}
    ),
    Action.MANAGE_PROJECT: lambda w, a: w.call(
        a, "PATCH", f"/api/projects/{w.project}", json={"description": "changed"}
    ),
    Action.VIEW_TASKS: lambda w, a: w.call(a, "GET", f"/api/tasks/{w.task}"),
    Action.MANAGE_TASKS: lambda w, a: w.call(
        a, "POST", "/api/tasks", json={"project": w.project, "data": {"text": "more"}}
    ),
    Action.ANNOTATE: lambda w, a: w.call(
        a, "POST", f"/api/tasks/{w.task}/annotations", json={"result": RESULT}
    ),
    Action.VIEW_OTHERS_ANNOTATIONS: lambda w, a: w.call(
        a, "GET", f"/api/annotations/{w.annotation}"
    ),
    Action.CHANGE_OTHERS_ANNOTATIONS: lambda w, a: w.call(
        a, "PATCH", f"/api/annotations/{w.annotation}", json={"lead_time": 1.5}
    ),
    Action.MARK_GROUND_TRUTH: lambda w, a: w.call(
        a,
        "POST",
        f"/api/tasks/{w.task}/annotations",
        json={"result": RESULT, "ground_truth": True},
    ),
    Action.EXPORT: lambda w, a: w.call(a, "GET", f"/api/projects/{w.project}/exports"),
    Action.MANAGE_STORAGES: lambda w, a: w.call(a, "GET", f"/api/storages/s3?project={w.project}"),
    Action.MANAGE_ML_BACKENDS: lambda w, a: w.call(
        a, "POST", "/api/ml", json={"project": w.project, "url": "http://127.0.0.1:9", "title": "m"}
    ),
    Action.MANAGE_PROJECT_WEBHOOKS: lambda w, a: w.call(
        a, "GET", f"/api/webhooks?project={w.project}"
    ),
    Action.MANAGE_ORGANIZATION_WEBHOOKS: lambda w, a: w.call(a, "GET", "/api/webhooks"),
    Action.MANAGE_LABELS: lambda w, a: w.call(
        a,
        "POST",
        "/api/labels",
        json=[
            {
                "project": w.project,
                "from_name": "sentiment",
                "value": {"choices": [f"Label {next(_numbers)}"]},
                "title": "Sentiment",
            }
        ],
    ),
    Action.COMMENT: lambda w, a: w.call(
        a, "POST", "/api/comments/", json={"text": "a note", "task": w.task}
    ),
    Action.MODERATE_COMMENTS: lambda w, a: w.call(
        a, "DELETE", f"/api/comments/{_founders_comment(w)}/"
    ),
    Action.REVIEW: lambda w, a: w.call(
        a, "POST", "/api/annotation-reviews", json={"annotation": w.annotation, "accepted": True}
    ),
    Action.ASSIGN: lambda w, a: w.call(a, "GET", f"/api/projects/{w.project}/assignments"),
    # Everyone who sees a project sees their own figures; someone else's are the row's.
    Action.VIEW_ANALYTICS: lambda w, a: w.call(
        a, "GET", f"/api/projects/{w.project}/analytics/", params={"user": w.founder.user_id}
    ),
    Action.VIEW_AUDIT_LOG: lambda w, a: w.call(a, "GET", "/api/audit-logs/"),
}

#: Answers of an allowed role that still prove the policy let it through: nothing listens
#: at the ML backend probe's URL, which the connection check (after the policy) says (400).
LET_THROUGH_NOT_2XX = {Action.MANAGE_ML_BACKENDS: {400}}


def test_every_row_has_a_probe() -> None:
    assert set(PROBES) == set(Action)


def test_each_cell_of_the_table_through_the_api(world: World) -> None:
    answered: dict[tuple[Action, Role], int] = {}
    wrong: list[str] = []
    for action, probe in PROBES.items():
        for role in Role:
            response = probe(world, world.actors[role])
            answered[action, role] = response.status_code
            allowed = role in PERMISSIONS[action]
            let_through = response.status_code < 300 or response.status_code in (
                LET_THROUGH_NOT_2XX.get(action, set())
            )
            refused = response.status_code in {403, 404}
            if (allowed and not let_through) or (not allowed and not refused):
                wrong.append(
                    f"{action.value} / {role.value}: table says "
                    f"{'yes' if allowed else 'no'}, answered {response.status_code} "
                    f"{response.text[:200]}"
                )
    assert wrong == [], "\n" + render_table() + "\n".join(wrong)
    # Hidden, not forbidden: an annotator does not find another's annotation nor a project
    # they are no member of.
    assert answered[Action.VIEW_OTHERS_ANNOTATIONS, Role.ANNOTATOR] == 404
    assert answered[Action.VIEW_ALL_PROJECTS, Role.REVIEWER] == 404
    assert answered[Action.MANAGE_TASKS, Role.REVIEWER] == 403


def _sdk(world: World, actor: Actor) -> LabelStudio:
    return LabelStudio(base_url=world.server.base_url, api_key=actor.token)


def test_an_annotator_reads_anothers_annotation_only_where_the_project_shows_it(
    world: World,
) -> None:
    """Through the official SDK: two annotators on one task; the manager turns the
    project's `annotators_see_others_annotations` on and then the annotator sees both."""
    first = world.actors[Role.ANNOTATOR]
    second = create_actor(
        world.database, organization_id=world.organization, role=Role.ANNOTATOR, secret=SECRET
    )
    manager = _sdk(world, world.actors[Role.MANAGER])
    project = manager.projects.create(title="Overlap", label_config=CONFIG)
    assert project.id is not None
    for annotator in (first, second):
        world.made("POST", f"/api/projects/{project.id}/members/", json={"user": annotator.user_id})
    manager.projects.import_tasks(id=project.id, request=[{"text": "one"}])
    [task] = list(manager.tasks.list(project=project.id))
    assert task.id is not None
    mine = _sdk(world, first).annotations.create(id=task.id, result=RESULT)
    theirs = _sdk(world, second).annotations.create(id=task.id, result=RESULT)
    assert mine.id is not None and theirs.id is not None

    annotator = _sdk(world, first)
    assert [a.id for a in annotator.annotations.list(id=task.id)] == [mine.id]
    assert [a["id"] for a in annotator.tasks.get(task.id).annotations or []] == [mine.id]
    with pytest.raises(ApiError) as hidden:
        annotator.annotations.get(id=theirs.id)
    assert hidden.value.status_code == 404
    with pytest.raises(ApiError) as unchanged:
        annotator.annotations.update(id=theirs.id, result=[])
    assert unchanged.value.status_code == 404
    assert manager.annotations.get(id=theirs.id).result == RESULT
    assert {a.id for a in manager.annotations.list(id=task.id)} == {mine.id, theirs.id}

    manager.projects.update(
        id=project.id,
        request_options={"additional_body_parameters": {"annotators_see_others_annotations": True}},
    )
    # task-svc caches a project for a few seconds (`ProjectDirectory`).
    deadline = time.monotonic() + 15
    while True:
        seen = {a.id for a in annotator.annotations.list(id=task.id)}
        if seen == {mine.id, theirs.id} or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert seen == {mine.id, theirs.id}
    assert annotator.annotations.get(id=theirs.id).id == theirs.id
    # Seeing is not changing: another's annotation stays the author's and the managers'.
    with pytest.raises(ApiError) as forbidden:
        annotator.annotations.update(id=theirs.id, result=[])
    assert forbidden.value.status_code == 403
    assert manager.annotations.get(id=theirs.id).result == RESULT

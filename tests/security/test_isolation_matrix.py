"""Issue 21, item 4: two organizations, a user of each role in each, every route of every
service against one single-process server, checked against the permission table.

Organization A owns a project with everything the routes name (`isolation.create_objects`).
Every member of organization B is refused every route that names A's objects (403 or 404,
never 2xx or 5xx) and never reads A's marker in an answer; anonymous callers get 401 but on
the public routes; inside A each role gets what `isolation.FAMILIES` says, and a refused
request changes nothing. Then ids guessed the other way round: B's own objects in the
path, A's ids in the query and body. About 2,900 requests on one server, in ~2 minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from labelops_common.auth.principal import Role
from labelops_common.db import Database
from labelops_runtime.suite import free_loopback_port
from labelops_testing.actors import Actor, create_actor, create_organization
from labelops_testing.ml_backend import ProtocolBackend, running_backend
from labelops_testing.receivers import WebhookReceiver, webhook_receiver

from ..conftest import (  # type: ignore[import-not-found]
    SECRET,
    RunningProcess,
    service_databases,
    start_labelops,
    stop,
)
from .isolation import (  # type: ignore[import-not-found]
    FAMILIES,
    MARKER,
    Caller,
    Ids,
    Route,
    allowed,
    build_request,
    create_objects,
    family_of,
    fill_path,
    held_references,
    mixed_request,
    not_set_up,
    order,
    read_routes,
    references_to,
)

ROUTES = read_routes()


@dataclass
class World:
    server: RunningProcess
    http: httpx.Client
    project_database: Database
    org_a: int
    org_b: int
    #: Organization A's owner who makes A's objects; none of the callers checked.
    founder: Actor
    a: dict[Role, Actor]
    b: dict[Role, Actor]
    ids: Ids
    ml: ProtocolBackend
    receiver: WebhookReceiver
    local_root: Path
    #: Settings of a Redis storage on a database of its own of the test Redis.
    redis: dict[str, Any]

    def caller(self, actor: Actor | None, label: str = "") -> Caller:
        if actor is None:
            return Caller(self.http, None, "anonymous")
        return Caller(self.http, actor.token, label or f"{actor.role.value}")

    def new_objects(self, *members: Actor) -> Ids:
        """A fresh set of A's objects, made by A's founder, with `members` in the project."""
        return create_objects(
            self.caller(self.founder),
            members=[member.user_id for member in members],
            ml_url=self.ml.url,
            webhook_url=self.receiver.url,
            local_root=self.local_root,
            redis=self.redis,
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    import redis
    from labelops_testing.databases import embedded_data_dir, redis_url_with_free_db

    tmp = tmp_path_factory.mktemp("isolation")
    local_root = tmp / "files"
    local_root.mkdir()
    redis_url = redis_url_with_free_db()
    parts = urlsplit(redis_url)
    redis_storage = {"host": parts.hostname, "port": parts.port, "db": int(parts.path[1:])}
    port = free_loopback_port()
    env = {
        "LABELOPS_PORT": str(port),
        "LABELOPS_SECRET_KEY": SECRET,
        "LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
        "LABELOPS_STORAGE_SYNC_LOCAL_FILES_DOCUMENT_ROOT": str(local_root),
        # Every import queued, so the import and reimport routes have an object to read.
        "LABELOPS_TASK_SVC_IMPORT_SYNC_MAX_BYTES": "1",
    }
    with (
        embedded_data_dir() as data_dir,
        service_databases() as urls,
        running_backend() as ml,
        webhook_receiver() as receiver,
    ):
        env.update(urls, LABELOPS_DATA_DIR=str(data_dir))
        server = start_labelops(["serve", "--target", "all"], env, tmp / "labelops.log", port)
        database = Database.from_url(urls["LABELOPS_PROJECT_SVC_DATABASE_URL"], pool_size=1)
        http = httpx.Client(base_url=server.base_url, timeout=60)
        try:
            org_a = create_organization(database, f"{MARKER} organization A")
            org_b = create_organization(database, "organization B")
            founder = create_actor(
                database, organization_id=org_a, role=Role.OWNER, secret=SECRET, email_prefix=MARKER
            )
            a = {
                role: create_actor(
                    database, organization_id=org_a, role=role, secret=SECRET, email_prefix=MARKER
                )
                for role in Role
            }
            b = {
                role: create_actor(
                    database, organization_id=org_b, role=role, secret=SECRET, email_prefix="b-"
                )
                for role in Role
            }
            world = World(
                server,
                http,
                database,
                org_a,
                org_b,
                founder,
                a,
                b,
                Ids(),
                ml,
                receiver,
                local_root,
                redis_storage,
            )
            world.ids = world.new_objects(a[Role.REVIEWER], a[Role.ANNOTATOR])
            yield world
        finally:
            http.close()
            database.engine.dispose()
            stop(server)
            client = redis.Redis.from_url(redis_url)
            client.flushdb()
            client.close()


def snapshot(world: World, ids: Ids) -> dict[str, Any]:
    """What A's owner reads of A's objects; a refused request must leave it as it was."""
    owner = world.caller(world.founder)
    project = {"project": ids["project"]}
    reads = {
        "project": (f"/api/projects/{ids['project']}", {}),
        "tasks": ("/api/tasks", project),
        "annotations": (f"/api/tasks/{ids['task']}/annotations", {}),
        "drafts": (f"/api/tasks/{ids['task']}/drafts", {}),
        "predictions": ("/api/predictions", {"task": ids["task"]}),
        "views": ("/api/dm/views", project),
        "exports": (f"/api/projects/{ids['project']}/exports", {}),
        "storages": ("/api/storages/localfiles", project),
        "export storages": ("/api/storages/export/localfiles", project),
        "redis storages": ("/api/storages/redis", project),
        "redis export storages": ("/api/storages/export/redis", project),
        "webhooks": ("/api/webhooks", project),
        "labels": ("/api/labels", {}),
        "ml": ("/api/ml", project),
        "members": (f"/api/projects/{ids['project']}/members", {}),
        "users": ("/api/users", {}),
        "organization": (f"/api/organizations/{ids['organization']}", {}),
        "memberships": (f"/api/organizations/{ids['organization']}/memberships", {}),
        "uploads": (f"/api/projects/{ids['project']}/file-uploads", {}),
    }
    state: dict[str, Any] = {}
    for name, (url, params) in reads.items():
        response = owner.request("GET", url, params=params)
        assert response.status_code == 200, (url, response.status_code, response.text)
        state[name] = _stable(response.json())
    return state


_VOLATILE = {"last_activity", "updated_at", "last_login", "date_joined", "readonly"}


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_stable(item) for item in value]
    return value


def _send(caller: Caller, route: Route, ids: Ids) -> httpx.Response:
    try:
        return caller.request(route.method, fill_path(route, ids), **build_request(route, ids))
    except httpx.TransportError as exc:
        raise AssertionError(f"{caller.label}: {route} -> {exc!r}") from exc


#: Body fields naming another object: Label Studio answers an id it cannot see there with a
#: 400 naming the field (`Invalid pk`), the same as for an id that does not exist.
_REFERENCES = {"project", "task", "label", "user", "file_upload_ids"}


def refused(response: httpx.Response) -> bool:
    """403 or 404; a 400 naming the body field that names A's object; or, for a list
    filtered to the caller's own organization (Label Studio's `GET /api/webhooks?project=`),
    an empty list: nothing of A either way."""
    if response.status_code in {403, 404}:
        return True
    if response.status_code == 200 and response.request.method == "GET":
        return response.json() in ([], {"results": [], "count": 0})
    if response.status_code != 400:
        return False
    errors = response.json().get("validation_errors") or {}
    return bool(_REFERENCES & set(errors))


def _describe(caller: Caller, route: Route, response: httpx.Response) -> str:
    return f"{caller.label}: {route} -> {response.status_code} {response.text[:160]}"


def test_every_route_has_a_family() -> None:
    assert len(ROUTES) > 200
    unassigned = [str(route) for route in ROUTES if family_of(route) is None]
    assert unassigned == []


def test_the_table_follows_the_policies() -> None:
    """Spot checks of the table itself, so a rule edited by accident shows."""
    route = {(r.method, r.path): r for r in ROUTES}
    annotator, manager = Role.ANNOTATOR, Role.MANAGER
    assert not allowed(annotator, route["PATCH", "/api/projects/{project_id}"])
    assert allowed(manager, route["PATCH", "/api/projects/{project_id}"])
    assert not allowed(annotator, route["DELETE", "/api/tasks/{task_id}"])
    assert not allowed(annotator, route["GET", "/api/users/{user_id}"])
    assert not allowed(annotator, route["POST", "/api/webhooks"])
    assert not allowed(annotator, route["POST", "/api/storages/s3"])
    assert not allowed(annotator, route["POST", "/api/ml"])
    assert allowed(annotator, route["POST", "/api/tasks/{task_id}/annotations"])
    assert not allowed(manager, route["PATCH", "/api/users/{user_id}"])
    assert allowed(Role.ADMINISTRATOR, route["PATCH", "/api/users/{user_id}"])


def test_an_answer_naming_another_organizations_object_is_caught() -> None:
    """The body check itself: A's ids under their keys, however deep, and nothing else."""
    a = Ids({"project": 1, "spare_project": 2, "task": 3, "annotation": 4, "convertible": 5})
    a.values.update(draft=6, label=7, upload=8, view=9)
    forbidden = references_to(a, {10, 11})
    answer = {"id": 3, "task": 30, "result": [{"completed_by": 11}], "file_upload_ids": [8]}
    assert held_references(answer, forbidden) == ["completed_by=11", "file_upload_ids=[8]"]
    assert held_references({"id": 1, "task": 3, "user": {"id": 10}}, forbidden) == ["task=3"]
    route = Route("task-svc", "POST", "/api/tasks/{task_id}/annotations")
    b = Ids({**a.values, "task": 300})
    url, kwargs = mixed_request(route, b, a, {10, 11})
    assert url == "/api/tasks/300/annotations"
    assert kwargs["json"]["completed_by"] == 10
    assert kwargs["json"]["parent_annotation"] == 4


def test_another_organization_is_refused_every_route(world: World) -> None:
    before = snapshot(world, world.ids)
    failures: list[str] = []
    for role, actor in world.b.items():
        caller = world.caller(actor, f"B {role.value}")
        for route in order(ROUTES):
            family = FAMILIES[family_of(route) or ""]
            response = _send(caller, route, world.ids)
            if (family.targets_a and not refused(response)) or response.status_code >= 500:
                failures.append(_describe(caller, route, response))
            elif MARKER in response.text.lower():
                failures.append("A's data in " + _describe(caller, route, response))
    assert failures == [], "\n".join(failures)
    assert snapshot(world, world.ids) == before


def test_anonymous_callers_get_401(world: World) -> None:
    before = snapshot(world, world.ids)
    anonymous = world.caller(None)
    failures = []
    for route in ROUTES:
        family = FAMILIES[family_of(route) or ""]
        if family.public:
            continue
        response = _send(anonymous, route, world.ids)
        if response.status_code != 401 or MARKER in response.text.lower():
            failures.append(_describe(anonymous, route, response))
    assert failures == [], "\n".join(failures)
    assert snapshot(world, world.ids) == before


def test_within_the_organization_a_refused_role_changes_nothing(world: World) -> None:
    before = snapshot(world, world.ids)
    failures = []
    count = 0
    for role, actor in world.a.items():
        caller = world.caller(actor, f"A {role.value}")
        for route in order(ROUTES):
            if allowed(role, route):
                continue
            count += 1
            response = _send(caller, route, world.ids)
            if not refused(response) or MARKER in response.text.lower():
                failures.append(_describe(caller, route, response))
    assert failures == [], "\n".join(failures)
    assert count > 200
    assert snapshot(world, world.ids) == before


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_within_the_organization_an_allowed_role_is_let_through(world: World, role: Role) -> None:
    """On objects of its own (its deletes destroy what they name), with a user of its own
    (its last requests end its sessions)."""
    actor = create_actor(
        world.project_database,
        organization_id=world.org_a,
        role=role,
        secret=SECRET,
        email_prefix="allowed-",
    )
    ids = world.new_objects(actor)
    caller = world.caller(actor, f"A {role.value}")
    ids.values["refresh"] = caller.created("POST", "/api/token")["token"]
    failures = []
    answered = 0
    for route in order(ROUTES):
        if not allowed(role, route) or FAMILIES[family_of(route) or ""].public:
            continue
        response = _send(caller, route, ids)
        answered += 1
        if response.is_success or response.is_redirect:
            continue
        if response.status_code == 400 and not_set_up(route):
            continue
        failures.append(_describe(caller, route, response))
    assert failures == [], "\n".join(failures)
    assert answered > 50


def test_own_objects_never_take_another_organizations_ids(world: World) -> None:
    """Ids guessed in bodies: an owner of B sends every route on B's own objects with A's
    project, task, annotation, draft, label, user and upload ids in the query and body.
    Nothing of A changes, and no answer names A's objects or shows A's data."""
    b_owner = create_actor(
        world.project_database,
        organization_id=world.org_b,
        role=Role.OWNER,
        secret=SECRET,
        email_prefix="mixed-",
    )
    caller = world.caller(b_owner, "B owner, own objects")
    own = create_objects(
        caller,
        members=[],
        ml_url=world.ml.url,
        webhook_url=world.receiver.url,
        local_root=world.local_root,
        redis=world.redis,
        marker="okapi",
    )
    own.values["refresh"] = caller.created("POST", "/api/token")["token"]
    users = {world.founder.user_id, world.ids["user_target"], world.ids["member_target"]}
    users |= {actor.user_id for actor in world.a.values()}
    forbidden = references_to(world.ids, users)
    before = snapshot(world, world.ids)
    failures = []
    for route in order(ROUTES):
        url, kwargs = mixed_request(route, own, world.ids, users)
        response = caller.request(route.method, url, **kwargs)
        if response.status_code >= 500 or MARKER in response.text.lower():
            failures.append(_describe(caller, route, response))
        elif response.is_success and "json" in response.headers.get("content-type", ""):
            held = held_references(response.json(), forbidden)
            if held:
                failures.append(f"{', '.join(held)} in " + _describe(caller, route, response))
    assert failures == [], "\n".join(failures)
    assert snapshot(world, world.ids) == before


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ANNOTATOR], ids=lambda role: role.value)
def test_a_member_of_the_organization_outside_the_project_does_not_find_it(
    world: World, role: Role
) -> None:
    """Annotators and reviewers see only the projects they were made members of: every
    route about A's project or its objects is refused, and the project lists omit it."""
    outsider = create_actor(
        world.project_database,
        organization_id=world.org_a,
        role=role,
        secret=SECRET,
        email_prefix="outsider-",
    )
    caller = world.caller(outsider, f"A {role.value}, not a member")
    before = snapshot(world, world.ids)
    failures = []
    checked = 0
    for route in order(ROUTES):
        if not FAMILIES[family_of(route) or ""].project:
            continue
        checked += 1
        response = _send(caller, route, world.ids)
        if not refused(response) or MARKER in response.text.lower():
            failures.append(_describe(caller, route, response))
    assert failures == [], "\n".join(failures)
    assert checked > 100
    listed = caller.created("GET", "/api/projects")
    assert world.ids["project"] not in {p["id"] for p in listed["results"]}
    counts = caller.created("GET", "/api/projects/counts")
    assert world.ids["project"] not in {p["id"] for p in counts["results"]}
    assert snapshot(world, world.ids) == before

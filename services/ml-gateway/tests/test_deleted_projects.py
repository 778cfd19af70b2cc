"""A deleted project's ML backends go with it, on project-svc's PROJECT_DELETED event."""

from __future__ import annotations

from datetime import UTC, datetime

from labelops_common.events import PROJECT_DELETED, Event, handlers_for, new_event_id, run_handlers
from labelops_testing.ml_backend import ProtocolBackend
from ml_gateway.backends.models import MLBackend
from sqlalchemy import select

from .conftest import Stack, World

HANDLER = "ml_gateway.backends.jobs.delete_backends_of_deleted_project"


def _backends(stack: Stack, project_id: int) -> list[int]:
    with stack.ml_runtime.database.session() as session:
        return list(session.scalars(select(MLBackend.id).where(MLBackend.project_id == project_id)))


def test_the_backends_of_a_deleted_project_are_removed(
    stack: Stack, world: World, backend: ProtocolBackend
) -> None:
    # The service's job modules, as a worker of the `events` queue imports them.
    stack.ml_runtime.job_handles()
    assert HANDLER in handlers_for(PROJECT_DELETED)
    first = world.connect(backend)
    second = world.connect(backend, title="second", basic_auth_user="u", basic_auth_pass="p")
    kept_world = World(stack, world.cast)
    kept = kept_world.connect(backend)
    answer = stack.project.delete(
        f"/api/projects/{world.project}", headers=world.cast.owner.headers
    )
    assert answer.status_code == 204, answer.text
    assert _backends(stack, world.project) == sorted([first["id"], second["id"]])

    event = Event(
        id=new_event_id(),
        name=PROJECT_DELETED,
        project_id=world.project,
        payload={"project": world.project},
        occurred_at=datetime.now(UTC).isoformat(),
    )
    assert run_handlers(event, only=[HANDLER]) == {}
    assert _backends(stack, world.project) == []
    assert _backends(stack, kept_world.project) == [kept["id"]]
    assert run_handlers(event, only=[HANDLER]) == {}
    assert _backends(stack, kept_world.project) == [kept["id"]]

"""A deleted project's storages go with it, on project-svc's PROJECT_DELETED event."""

from __future__ import annotations

from datetime import UTC, datetime

from labelops_common.events import PROJECT_DELETED, Event, handlers_for, new_event_id, run_handlers

from .conftest import Api, Db, Stack
from .test_localfiles import files

HANDLER = "storage_sync.storages.jobs.delete_storages_of_deleted_project"


def test_the_storages_of_a_deleted_project_are_removed_with_their_records(
    api: Api, db: Db, stack: Stack
) -> None:
    # The service's job modules, as a worker of the `events` queue imports them.
    stack.storage_runtime.job_handles()
    assert HANDLER in handlers_for(PROJECT_DELETED)
    deleted_project, kept_project = api.project(), api.project()
    directory = stack.document_root / f"set-{deleted_project}"
    files(directory, ["a.jpg", "b.jpg"])
    source = api.create(
        "localfiles",
        {"project": deleted_project, "path": str(directory), "use_blob_urls": True},
    ).json()
    assert api.sync("localfiles", source["id"])["last_sync_count"] == 2
    target = stack.document_root / f"out-{deleted_project}"
    target.mkdir()
    exported = api.create(
        "localfiles", {"project": deleted_project, "path": str(target)}, export=True
    )
    assert exported.status_code == 201, exported.text
    kept_directory = stack.document_root / f"set-{kept_project}"
    kept_directory.mkdir()
    kept = api.create("localfiles", {"project": kept_project, "path": str(kept_directory)}).json()
    answer = stack.project.delete(
        f"/api/projects/{deleted_project}", headers=api.cast.owner.headers
    )
    assert answer.status_code == 204, answer.text
    assert len(db.storages(deleted_project)) == 2  # until the event is handled

    event = Event(
        id=new_event_id(),
        name=PROJECT_DELETED,
        project_id=deleted_project,
        payload={"project": deleted_project},
        occurred_at=datetime.now(UTC).isoformat(),
    )
    assert run_handlers(event, only=[HANDLER]) == {}
    assert db.storages(deleted_project) == []
    assert db.jobs(source["id"]) == []
    assert db.imported(source["id"]) == []
    assert [storage.id for storage in db.storages(kept_project)] == [kept["id"]]
    # Delivered again (at least once): applied once, nothing else removed.
    assert run_handlers(event, only=[HANDLER]) == {}
    assert [storage.id for storage in db.storages(kept_project)] == [kept["id"]]

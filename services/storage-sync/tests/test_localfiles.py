"""Local-files storages: a directory strictly under the document root, synced and served."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from .conftest import Api, Db, Stack


def files(directory: Path, names: list[str]) -> None:
    for name in names:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode())


def test_a_path_outside_the_root_is_refused_and_nothing_created(
    api: Api, db: Db, stack: Stack, tmp_path: Path
) -> None:
    project_id = api.project()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    inside = stack.document_root / "inside"
    inside.mkdir(exist_ok=True)
    (inside / "escape").symlink_to(outside)
    for path, reason in (
        (str(outside), "subdirectory of the document root"),
        (str(stack.document_root), "subdirectory of the document root"),
        (f"{inside}/../../elsewhere", "subdirectory of the document root"),
        (str(inside / "escape"), "subdirectory of the document root"),
        ("relative/path", "absolute path"),
        (str(stack.document_root / "missing"), "not an existing directory"),
    ):
        answer = api.create("localfiles", {"project": project_id, "path": path})
        assert answer.status_code == 400, (path, answer.text)
        assert reason in answer.json()["validation_errors"]["path"][0], answer.text
    assert db.storages(project_id) == []


def test_sync_of_local_files_and_serving_them(api: Api, stack: Stack) -> None:
    project_id = api.project()
    directory = stack.document_root / f"set-{project_id}"
    files(directory, ["b.jpg", "a.jpg", "sub/c.jpg", "notes.txt"])
    # A link inside the directory pointing out of the root is never listed.
    (directory / "link.jpg").symlink_to("/etc/hostname")
    storage = api.create(
        "localfiles",
        {
            "project": project_id,
            "path": str(directory),
            "use_blob_urls": True,
            "regex_filter": r".*\.jpg$",
            "recursive_scan": True,
        },
    ).json()
    synced = api.sync("localfiles", storage["id"])
    assert synced["status"] == "completed", synced
    assert synced["last_sync_count"] == 3
    refs = sorted(task["data"]["image"] for task in api.tasks(project_id))
    assert refs == [
        f"/data/local-files/?d=set-{project_id}/a.jpg",
        f"/data/local-files/?d=set-{project_id}/b.jpg",
        f"/data/local-files/?d=set-{project_id}/sub/c.jpg",
    ]
    files(directory, ["d.jpg"])
    assert api.sync("localfiles", storage["id"])["last_sync_count"] == 1
    relative = parse_qs(urlsplit(refs[0]).query)["d"][0]
    served = stack.storage.get(f"/data/local-files/?d={relative}", headers=api.cast.owner.headers)
    assert served.status_code == 200
    assert served.content == b"a.jpg"
    assert stack.storage.get(f"/data/local-files/?d={relative}").status_code == 401
    assert (
        stack.storage.get(
            f"/data/local-files/?d={relative}", headers=api.cast.outsider.headers
        ).status_code
        == 404
    )
    escape = stack.storage.get(
        f"/data/local-files/?d=set-{project_id}/../../../etc/hostname",
        headers=api.cast.owner.headers,
    )
    assert escape.status_code == 404
    link = stack.storage.get(
        f"/data/local-files/?d=set-{project_id}/link.jpg", headers=api.cast.owner.headers
    )
    assert link.status_code == 404


def test_media_is_served_while_a_deleted_projects_storage_is_still_listed(
    api: Api, stack: Stack
) -> None:
    """A deleted project's storage stays a candidate for the organization's media until it
    is cleaned up, and the project cache here still knows the project for a few seconds;
    task-svc already answers NOT_FOUND for it. The file of a live project is served still
    (this was a 500, and uvicorn closed the connection behind it)."""
    deleted_project = api.project()
    deleted_directory = stack.document_root / f"set-{deleted_project}"
    files(deleted_directory, ["gone.jpg"])
    created = api.create("localfiles", {"project": deleted_project, "path": str(deleted_directory)})
    assert created.status_code == 201, created.text
    project_id = api.project()
    directory = stack.document_root / f"set-{project_id}"
    files(directory, ["kept.jpg"])
    storage = api.create(
        "localfiles", {"project": project_id, "path": str(directory), "use_blob_urls": True}
    ).json()
    assert api.sync("localfiles", storage["id"])["last_sync_count"] == 1
    (task,) = api.tasks(project_id)
    fileuri = base64.urlsafe_b64encode(task["data"]["image"].encode()).decode()

    def resolve() -> httpx.Response:
        return stack.storage.get(
            f"/tasks/{task['id']}/resolve/?fileuri={fileuri}",
            headers=api.cast.owner.headers,
            follow_redirects=False,
        )

    # The first answer also puts the project that is deleted next into the cache here.
    assert resolve().content == b"kept.jpg"
    deleted = stack.project.delete(
        f"/api/projects/{deleted_project}", headers=api.cast.owner.headers
    )
    assert deleted.status_code == 204, deleted.text
    answer = resolve()
    assert answer.status_code == 200, answer.text
    assert answer.content == b"kept.jpg"

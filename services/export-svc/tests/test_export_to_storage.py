"""Snapshots written to a project's export storage, and bucket media fetched into archives,
through a real storage-sync beside the stack's project-svc and task-svc, on moto's S3.

export-svc never holds a storage credential: it names an export storage when the snapshot
is asked for (storage-sync says whose it is), streams the finished file to storage-sync
over gRPC, and asks storage-sync for presigned URLs of `s3://` media.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from export_svc.app import build_service as build_export_service
from export_svc.exports import jobs
from export_svc.exports.models import Export
from export_svc.settings import Settings as ExportSettings
from export_svc.storages import StorageClient
from fastapi.testclient import TestClient
from labelops_common.db import utcnow
from labelops_common.grpcutil import GrpcServerHandle, build_grpc_server
from labelops_common.jobs import JobStatus, register_job_resources
from labelops_common.migrations import upgrade_to_head
from labelops_common.outbound import OutboundPolicy
from labelops_common.service import ServiceRuntime
from labelops_runtime.suite import free_loopback_port
from labelops_testing import emulators
from labelops_testing.actors import Actor
from labelops_testing.databases import scratch_database_url
from PIL import Image
from sqlalchemy import select
from storage_sync.app import build_service as build_storage_service
from storage_sync.backends import ConnectContext
from storage_sync.settings import Settings as StorageSettings

from .conftest import IMAGE_CONFIG, Cast, Seeded, Seeder, Stack

ACCESS_KEY = "AKIAEXPORTTARGETS001"
SECRET_KEY = "export-target-secret-0123456789abcdefghij"


@dataclass
class Wired:
    """storage-sync, and an export-svc that knows where it is (the stack's does not)."""

    storage_runtime: ServiceRuntime
    export_runtime: ServiceRuntime
    storage: TestClient
    export: TestClient


@pytest.fixture(scope="module")
def wired(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wired]:
    common = stack.common.model_copy(
        update={
            "grpc_peers": {
                **stack.common.grpc_peers,
                "storage-sync": f"127.0.0.1:{free_loopback_port()}",
            }
        }
    )
    # moto listens on loopback: both services are given a policy allowing private networks.
    loopback = OutboundPolicy(allow_private_networks=True)
    with (
        scratch_database_url("storage-sync-targets") as storage_url,
        scratch_database_url("export-svc-targets") as export_url,
    ):
        storage_runtime = build_storage_service(
            common,
            StorageSettings(database_url=storage_url),
            context=ConnectContext(policy=loopback),
        )
        export_runtime = build_export_service(
            common, ExportSettings(database_url=export_url), outbound=loopback
        )
        handles: list[GrpcServerHandle] = []
        try:
            for runtime, url in ((storage_runtime, storage_url), (export_runtime, export_url)):
                upgrade_to_head(
                    script_location=runtime.migrations_dir,
                    database_url=url,
                    service_name=runtime.name,
                )
            storage_grpc = build_grpc_server(
                service_name=storage_runtime.name,
                bind=common.peer_address(storage_runtime.name),
                register=storage_runtime.grpc_registrations,
                service_full_names=storage_runtime.grpc_service_names,
            )
            storage_grpc.start()
            handles.append(storage_grpc)
            with (
                TestClient(storage_runtime.http_app, raise_server_exceptions=False) as storage,
                TestClient(export_runtime.http_app, raise_server_exceptions=False) as export,
            ):
                yield Wired(storage_runtime, export_runtime, storage, export)
        finally:
            for handle in handles:
                handle.stop(grace=0)
            storage_runtime.close()
            export_runtime.close()


@pytest.fixture()
def targets(stack: Stack, wired: Wired, sent: list[tuple[str, int]]) -> Iterator[Wired]:
    """Job bodies run with the wired export-svc's parts for one test, then the stack's."""
    assert wired.export_runtime.job_resources is not None
    register_job_resources(wired.export_runtime.job_resources)
    try:
        yield wired
    finally:
        assert stack.export_runtime.job_resources is not None
        register_job_resources(stack.export_runtime.job_resources)


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulators.moto_s3(tmp_path_factory.mktemp("moto-targets")) as endpoint:
        yield endpoint


def s3(endpoint: str) -> Any:
    return emulators.moto_s3_client(endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY)


def new_bucket(endpoint: str) -> str:
    name = f"team-{uuid.uuid4().hex[:12]}"
    s3(endpoint).create_bucket(Bucket=name)
    return name


def s3_storage(
    wired: Wired,
    actor: Actor,
    project_id: int,
    endpoint: str,
    bucket: str,
    *,
    export: bool = True,
    prefix: str = "",
) -> int:
    base = "/api/storages/export/s3" if export else "/api/storages/s3"
    answer = wired.storage.post(
        base,
        json={
            "project": project_id,
            "title": "Team bucket",
            "bucket": bucket,
            "prefix": prefix,
            "s3_endpoint": endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
        },
        headers=actor.headers,
    )
    assert answer.status_code == 201, answer.text
    storage_id: int = answer.json()["id"]
    return storage_id


def snapshot_rows(wired: Wired, project_id: int) -> list[Export]:
    with wired.export_runtime.database.session() as session:
        return list(session.scalars(select(Export).where(Export.project_id == project_id)))


def run_snapshot(wired: Wired, cast: Cast, project_id: int, body: dict[str, Any]) -> Any:
    base = f"/api/projects/{project_id}/exports"
    created = wired.export.post(base, json=body, headers=cast.owner.headers)
    assert created.status_code == 201, created.text
    export_id = created.json()["id"]
    assert jobs.write_snapshot.run(export_id) == "succeeded"
    shown = wired.export.get(f"{base}/{export_id}", headers=cast.owner.headers)
    assert shown.status_code == 200, shown.text
    return created.json(), shown.json()


def download(wired: Wired, cast: Cast, project_id: int, export_id: int) -> bytes:
    answer = wired.export.get(
        f"/api/projects/{project_id}/exports/{export_id}/download", headers=cast.owner.headers
    )
    assert answer.status_code == 200, answer.text
    return answer.content


def test_a_snapshot_lands_in_the_export_storage_byte_for_byte(
    targets: Wired, s3_endpoint: str, cast: Cast, ner_project: Seeded
) -> None:
    project = ner_project.project_id
    bucket = new_bucket(s3_endpoint)
    storage_id = s3_storage(
        targets, cast.owner, project, s3_endpoint, bucket, prefix="/team/exports/"
    )

    created, shown = run_snapshot(
        targets, cast, project, {"title": "to the team bucket", "target_storage_id": storage_id}
    )
    assert created["target_storage"] == {
        "storage_id": storage_id,
        "status": "queued",
        "uri": None,
        "error": None,
        "written_at": None,
    }
    export_id = shown["id"]
    key = f"team/exports/project-{project}-export-{export_id}.json"
    target = shown["target_storage"]
    assert shown["status"] == "completed"
    assert (target["status"], target["uri"], target["error"]) == (
        "completed",
        f"s3://{bucket}/{key}",
        None,
    )
    assert target["written_at"]

    stored = s3(s3_endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()
    downloaded = download(targets, cast, project, export_id)
    assert stored == downloaded
    assert hashlib.md5(stored, usedforsecurity=False).hexdigest() == shown["md5"]
    assert [task["id"] for task in json.loads(stored)] == ner_project.task_ids

    (row,) = [item for item in snapshot_rows(targets, project) if item.id == export_id]
    assert (row.target_storage_id, row.target_status) == (storage_id, "completed")
    listed = s3(s3_endpoint).list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listed] == [key]

    # Without a target the answers stay Label Studio's.
    _created, plain = run_snapshot(targets, cast, project, {"title": "plain"})
    assert "target_storage" not in plain and plain["status"] == "completed"


def test_a_job_sent_again_after_a_lost_worker_writes_the_target_again(
    targets: Wired, s3_endpoint: str, cast: Cast, ner_project: Seeded
) -> None:
    """The row as a worker killed between the file and its copy leaves it: running, its
    lease run out, the file recorded, the copy begun. The job sent again by the stale-job
    sweep writes the same object, and nothing else."""
    project = ner_project.project_id
    bucket = new_bucket(s3_endpoint)
    storage_id = s3_storage(targets, cast.owner, project, s3_endpoint, bucket)
    _created, shown = run_snapshot(targets, cast, project, {"target_storage_id": storage_id})
    export_id = shown["id"]
    key = f"project-{project}-export-{export_id}.json"
    s3(s3_endpoint).delete_object(Bucket=bucket, Key=key)
    with targets.export_runtime.database.session() as session:
        row = session.get(Export, export_id)
        assert row is not None
        row.status = JobStatus.RUNNING.value
        row.lease_expires_at = utcnow() - timedelta(seconds=1)
        row.target_status, row.target_uri, row.target_written_at = "in_progress", None, None
        session.commit()

    assert jobs.write_snapshot.run(export_id) == "succeeded"

    again = targets.export.get(
        f"/api/projects/{project}/exports/{export_id}", headers=cast.owner.headers
    ).json()
    assert (again["status"], again["md5"]) == ("completed", shown["md5"])
    assert again["target_storage"]["status"] == "completed"
    assert again["target_storage"]["uri"] == f"s3://{bucket}/{key}"
    stored = s3(s3_endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored == download(targets, cast, project, export_id)
    assert [item["Key"] for item in s3(s3_endpoint).list_objects_v2(Bucket=bucket)["Contents"]] == [
        key
    ]


def test_a_target_that_is_not_an_export_storage_of_the_project_is_a_400(
    targets: Wired, s3_endpoint: str, cast: Cast, seeder: Seeder, ner_project: Seeded
) -> None:
    project = ner_project.project_id
    bucket = new_bucket(s3_endpoint)
    # Another organization's project and export storage.
    other_org_project = seeder.stack.project.post(
        "/api/projects",
        json={"title": "Theirs", "label_config": IMAGE_CONFIG},
        headers=cast.outsider.headers,
    ).json()["id"]
    foreign = s3_storage(targets, cast.outsider, other_org_project, s3_endpoint, bucket)
    # Another project of the same organization, and an import storage of this one.
    sibling = seeder.project()
    sibling_storage = s3_storage(targets, cast.owner, sibling, s3_endpoint, bucket)
    import_storage = s3_storage(targets, cast.owner, project, s3_endpoint, bucket, export=False)

    base = f"/api/projects/{project}/exports"
    for storage_id, reason in (
        (foreign, f"No export storage {foreign} in this project's organization."),
        (import_storage, f"No export storage {import_storage} in this project's organization."),
        (10**9, f"No export storage {10**9} in this project's organization."),
        (
            sibling_storage,
            f"Export storage {sibling_storage} belongs to another project; "
            f"choose an export storage of project {project}.",
        ),
    ):
        answer = targets.export.post(
            base, json={"target_storage_id": storage_id}, headers=cast.owner.headers
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["validation_errors"] == {"target_storage_id": [reason]}
    not_an_id = targets.export.post(
        base, json={"target_storage_id": "bucket"}, headers=cast.owner.headers
    )
    assert not_an_id.status_code == 400, not_an_id.text
    assert "target_storage_id" in not_an_id.json()["validation_errors"]
    # Nothing was queued, and nothing reached the bucket.
    assert snapshot_rows(targets, project) == []
    assert s3(s3_endpoint).list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    # The storage's owner may target it from their own project.
    answer = targets.export.post(
        f"/api/projects/{other_org_project}/exports",
        json={"target_storage_id": foreign},
        headers=cast.outsider.headers,
    )
    assert answer.status_code == 201, answer.text


def test_who_may_target_a_storage_and_storage_sync_down(
    targets: Wired, s3_endpoint: str, cast: Cast, ner_project: Seeded
) -> None:
    """The snapshot's permission matrix holds with a target (no storage id is probed for
    those who may not export); storage-sync unreachable when asked is a 503, nothing queued."""
    project = ner_project.project_id
    storage_id = s3_storage(targets, cast.owner, project, s3_endpoint, new_bucket(s3_endpoint))
    base = f"/api/projects/{project}/exports"
    body = {"target_storage_id": storage_id}
    for actor, status in ((cast.annotator, 403), (cast.outsider, 404)):
        assert targets.export.post(base, json=body, headers=actor.headers).status_code == status
    assert targets.export.post(base, json=body).status_code == 401
    assert targets.export.post(base, json=body, headers=cast.manager.headers).status_code == 201

    state = targets.export.app.state  # type: ignore[attr-defined]
    reachable = state.storage_client
    common = targets.export_runtime.http_app.state.common_settings
    nowhere = common.model_copy(
        update={
            "grpc_peers": {**common.grpc_peers, "storage-sync": f"127.0.0.1:{free_loopback_port()}"}
        }
    )
    # Starlette's `State` keeps attributes in a dict, which monkeypatch cannot restore.
    state.storage_client = StorageClient(nowhere, write_deadline_seconds=5, resolve_ttl_seconds=60)
    try:
        down = targets.export.post(base, json=body, headers=cast.owner.headers)
    finally:
        state.storage_client = reachable
    assert down.status_code == 503, down.text
    assert [row.title for row in snapshot_rows(targets, project)] == [""]  # the manager's


def test_an_unreachable_storage_fails_the_write_not_the_snapshot(
    targets: Wired, cast: Cast, ner_project: Seeded, tmp_path: Path
) -> None:
    project = ner_project.project_id
    with emulators.moto_s3(tmp_path / "moto-gone") as endpoint:
        bucket = new_bucket(endpoint)
        storage_id = s3_storage(targets, cast.owner, project, endpoint, bucket)
    # The storage's endpoint is gone: its server stopped after the storage was saved.

    _created, shown = run_snapshot(targets, cast, project, {"target_storage_id": storage_id})

    assert shown["status"] == "completed"
    target = shown["target_storage"]
    assert (target["storage_id"], target["status"], target["uri"]) == (
        storage_id,
        "failed",
        None,
    )
    assert f"s3 bucket '{bucket}'" in target["error"] and "failed" in target["error"]
    assert SECRET_KEY not in target["error"] and ACCESS_KEY not in target["error"]
    # The snapshot itself is whole and downloadable.
    stored = download(targets, cast, project, shown["id"])
    assert hashlib.md5(stored, usedforsecurity=False).hexdigest() == shown["md5"]
    assert len(json.loads(stored)) == len(ner_project.task_ids)


BOX = {
    "from_name": "box",
    "to_name": "image",
    "type": "rectanglelabels",
    "original_width": 40,
    "original_height": 30,
    "value": {"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0, "labels": ["Cat"]},
}


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color=(10, 200, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_bucket_media_is_fetched_into_archives_through_storage_sync(
    targets: Wired, s3_endpoint: str, cast: Cast, seeder: Seeder
) -> None:
    project = seeder.project(label_config=IMAGE_CONFIG)
    bucket = new_bucket(s3_endpoint)
    image = png(40, 30)
    s3(s3_endpoint).put_object(Bucket=bucket, Key="pets/cat.png", Body=image)
    s3_storage(targets, cast.owner, project, s3_endpoint, bucket, export=False)
    (task_id, missing_id) = seeder.tasks(
        project,
        [{"image": f"s3://{bucket}/pets/cat.png"}, {"image": "s3://not-our-bucket/dog.png"}],
    )
    seeder.annotate(task_id, [BOX])
    seeder.annotate(missing_id, [BOX])

    answer = targets.export.get(
        f"/api/projects/{project}/export",
        params={"exportType": "COCO_WITH_IMAGES"},
        headers=cast.owner.headers,
    )

    assert answer.status_code == 200, answer.text
    opened = zipfile.ZipFile(io.BytesIO(answer.content))
    images = [name for name in opened.namelist() if name.startswith("images/")]
    assert len(images) == 1 and images[0].endswith("cat.png")
    assert opened.read(images[0]) == image
    coco = json.loads(opened.read("result.json"))
    sized = [(entry["width"], entry["height"]) for entry in coco["images"]]
    assert (40, 30) in sized
    # No credential of the bucket ever reaches export-svc: it only holds presigned URLs.
    state = targets.export.app.state  # type: ignore[attr-defined]
    assert state.media_access.cloud is not None
    assert not any(SECRET_KEY in repr(value) for value in vars(state.media_access).values())

"""Uploads and import bodies in an object store: task-svc built with
`LABELOPS_ARTIFACT_STORAGE=s3` against moto's S3 server, as in Kubernetes, where the
`imports` worker pod cannot see the disk of the API pod that received the body.

A large import's body goes to the bucket and the job reads it from there (and deletes it);
an uploaded file lands in the bucket and `/data/upload/...` redirects to a presigned URL;
a failed import leaves no object behind. Nothing is written to the pod's own disk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from labelops_common.artifacts.s3 import S3ArtifactStorage
from labelops_common.jobs import register_job_resources
from labelops_common.migrations import upgrade_to_head
from labelops_common.service import ServiceRuntime
from labelops_testing import emulators
from labelops_testing.databases import scratch_database_url
from sqlalchemy import func, select
from task_svc.app import build_service as build_task_service
from task_svc.imports import jobs, uploads
from task_svc.imports.models import FileUpload
from task_svc.settings import Settings as TaskSettings
from task_svc.tasks.models import Task

BUCKET = "labelops-task-uploads"
PREFIX = "suite/"
ACCESS_KEY = "AKIATASKSVCTEST00001"
SECRET_KEY = "task-svc-s3-secret-0123456789abcdefghijkl"

TEXT_CONFIG = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>
"""
IMAGE_CONFIG = """
<View>
  <Image name="image" value="$image"/>
  <Choices name="kind" toName="image"><Choice value="Cat"/><Choice value="Dog"/></Choices>
</View>
"""
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64
#: Tasks in the large import: ~9.5 MB of JSON, over the 8 MiB inline limit and over one
#: 8 MiB S3 part, so the body is a real multipart upload.
LARGE_TASKS = 2300


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulators.moto_s3(tmp_path_factory.mktemp("task-svc-moto")) as endpoint:
        bucket_client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint


def bucket_client(endpoint: str) -> Any:
    return emulators.moto_s3_client(endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY)


def bucket_objects(endpoint: str) -> dict[str, int]:
    """Every object in the raw bucket (any prefix) and its size."""
    found: dict[str, int] = {}
    pages = bucket_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    for page in pages:
        found.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
    return found


class S3Pod:
    """A second task-svc whose uploads and import bodies live in the bucket."""

    def __init__(self, runtime: ServiceRuntime, client: TestClient, disk: Path) -> None:
        self.runtime = runtime
        self.client = client
        self.disk = disk

    @property
    def storage(self) -> Any:
        return self.runtime.http_app.state.artifact_storage

    def rows(self, model: Any, project: int) -> int:
        with self.runtime.database.session() as session:
            query = select(func.count()).select_from(model).where(model.project_id == project)
            return int(session.scalar(query) or 0)

    def tasks(self, project: int) -> list[Task]:
        with self.runtime.database.session() as session:
            query = select(Task).where(Task.project_id == project).order_by(Task.id)
            return list(session.scalars(query))


@pytest.fixture(scope="module")
def s3_pod(
    stack: Any, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[S3Pod]:
    tmp = tmp_path_factory.mktemp("task-svc-s3")
    with (
        pytest.MonkeyPatch.context() as patch,
        scratch_database_url("task-svc-s3") as database_url,
    ):
        for name, value in {
            "AWS_ENDPOINT_URL": s3_endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        }.items():
            patch.setenv(name, value)
        common = stack.common.model_copy(
            update={"artifact_storage": "s3", "artifact_bucket": BUCKET, "artifact_prefix": PREFIX}
        )
        disk = tmp / "pod-disk"
        runtime = build_task_service(
            common, TaskSettings(database_url=database_url, uploads_dir=disk)
        )
        upgrade_to_head(
            script_location=runtime.migrations_dir,
            database_url=database_url,
            service_name=runtime.name,
        )
        try:
            with TestClient(runtime.http_app, raise_server_exceptions=False) as client:
                yield S3Pod(runtime, client, disk)
        finally:
            _register_jobs(stack.task_runtime)
            runtime.close()


def _register_jobs(runtime: ServiceRuntime) -> None:
    assert runtime.job_resources is not None
    register_job_resources(runtime.job_resources)


@pytest.fixture()
def pod(s3_pod: S3Pod, stack: Any) -> Iterator[S3Pod]:
    """The S3 pod, with import jobs run by it (the stack's instance gets them back after)."""
    _register_jobs(s3_pod.runtime)
    try:
        yield s3_pod
    finally:
        _register_jobs(stack.task_runtime)


@pytest.fixture()
def sent(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Queued import jobs are captured, then run here as the worker pod would run them."""
    captured: list[int] = []

    def capture(*args: Any, **_: Any) -> None:
        captured.append(int(args[0]))

    monkeypatch.setattr(jobs.import_tasks, "send", capture)
    return captured


def _large_body(*, bad_last_item: bool = False) -> bytes:
    items: list[dict[str, Any]] = [
        {"text": f"task {index} " + "x" * 4096} for index in range(LARGE_TASKS)
    ]
    if bad_last_item:
        items[-1] = {"nottext": "x"}
    body = json.dumps(items).encode()
    assert len(body) > 8 * 1024 * 1024
    return body


def _post_json(pod: S3Pod, project: int, body: bytes, cast: Any) -> httpx.Response:
    return pod.client.post(
        f"/api/projects/{project}/import",
        content=body,
        headers={**cast.owner.headers, "Content-Type": "application/json"},
    )


def _bodies(endpoint: str) -> dict[str, int]:
    return {
        key: size
        for key, size in bucket_objects(endpoint).items()
        if key.startswith(f"{PREFIX}import-bodies/")
    }


def test_a_large_import_runs_from_the_bucket(
    pod: S3Pod, s3_endpoint: str, cast: Any, make_project: Any, sent: list[int]
) -> None:
    assert isinstance(pod.storage, S3ArtifactStorage) and pod.storage.bucket == BUCKET
    project = make_project(label_config=TEXT_CONFIG)
    body = _large_body()
    bodies_before = _bodies(s3_endpoint)

    answer = _post_json(pod, project, body, cast)
    assert answer.status_code == 201, answer.text
    job_id = answer.json()["import"]
    assert sent == [job_id]
    assert pod.rows(Task, project) == 0
    [(key, size)] = set(_bodies(s3_endpoint).items()) - set(bodies_before.items())
    assert re.fullmatch(rf"{PREFIX}import-bodies/[0-9a-f]{{32}}\.json", key)
    assert size == len(body)
    stored = bucket_client(s3_endpoint).get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert stored == body

    assert jobs.import_tasks.run(job_id) == "succeeded"
    done = pod.client.get(
        f"/api/projects/{project}/imports/{job_id}", headers=cast.owner.headers
    ).json()
    assert done["status"] == "completed" and done["task_count"] == LARGE_TASKS
    tasks = pod.tasks(project)
    assert len(tasks) == LARGE_TASKS
    assert tasks[-1].data["text"] == f"task {LARGE_TASKS - 1} " + "x" * 4096
    assert key not in bucket_objects(s3_endpoint)
    assert not pod.disk.exists() or not any(pod.disk.rglob("*"))


def test_an_uploaded_file_is_served_from_the_bucket(
    pod: S3Pod, s3_endpoint: str, cast: Any, make_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(label_config=IMAGE_CONFIG)
    answer = pod.client.post(
        f"/api/projects/{project}/import",
        files={"file": ("my cat.png", PNG, "image/png")},
        headers=cast.owner.headers,
    )
    assert answer.status_code == 201, answer.text
    [upload_id] = answer.json()["file_upload_ids"]
    [task] = pod.tasks(project)
    image: str = task.data["image"]
    assert re.fullmatch(rf"/data/upload/{project}/[0-9a-f]{{8}}-my_cat\.png", image), image
    key = PREFIX + image.removeprefix("/data/")
    assert bucket_objects(s3_endpoint)[key] == len(PNG)
    head = bucket_client(s3_endpoint).head_object(Bucket=BUCKET, Key=key)
    assert head["ContentType"] == "image/png"

    redirected = pod.client.get(image, headers=cast.owner.headers, follow_redirects=False)
    assert redirected.status_code == 302
    location = redirected.headers["location"]
    assert location.startswith(f"{s3_endpoint}/{BUCKET}/{key}?")
    assert "X-Amz-Expires=3600" in location and "X-Amz-Signature=" in location
    downloaded = httpx.get(location)
    assert downloaded.status_code == 200 and downloaded.content == PNG
    ranged = httpx.get(location, headers={"Range": "bytes=0-7"})
    assert ranged.status_code == 206 and ranged.content == PNG[:8]
    proxied = pod.client.get(
        f"/storage-data/uploaded/?filepath={image.removeprefix('/data/')}",
        headers=cast.owner.headers,
        follow_redirects=False,
    )
    assert proxied.status_code == 302
    # Access is checked before any URL is signed.
    for headers, status in ((cast.outsider.headers, 404), ({}, 401)):
        refused = pod.client.get(image, headers=headers, follow_redirects=False)
        assert refused.status_code == status and "location" not in refused.headers

    # Credentials that cannot sign: the bytes come through the service instead.
    monkeypatch.setattr(pod.storage, "presigned_url", lambda *args, **kwargs: None)
    streamed = pod.client.get(image, headers=cast.owner.headers, follow_redirects=False)
    assert streamed.status_code == 200 and streamed.content == PNG
    assert streamed.headers["content-type"] == "image/png"
    assert streamed.headers["content-security-policy"] == "sandbox"
    monkeypatch.undo()

    gone = pod.client.delete(f"/api/import/file-upload/{upload_id}", headers=cast.owner.headers)
    assert gone.status_code == 204
    assert key not in bucket_objects(s3_endpoint)
    assert pod.client.get(image, headers=cast.owner.headers).status_code == 404
    assert not pod.disk.exists() or not any(pod.disk.rglob("*"))


def test_a_failed_import_leaves_no_object_behind(
    pod: S3Pod, s3_endpoint: str, cast: Any, make_project: Any, sent: list[int]
) -> None:
    project = make_project(label_config=TEXT_CONFIG)
    before = bucket_objects(s3_endpoint)

    # Inline: a good media file and a bad task file in one request.
    answer = pod.client.post(
        f"/api/projects/{project}/import",
        files=[
            ("file", ("photo.png", PNG, "image/png")),
            ("file", ("tasks.json", json.dumps([{"text": "ok"}, {"nottext": "x"}]), "text/json")),
        ],
        headers=cast.owner.headers,
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["validation_errors"]["non_field_errors"] == [
        'Error at item 2: "text" key is expected in task data'  # items count across files
    ]
    assert bucket_objects(s3_endpoint) == before

    # Queued: the body reaches the bucket, the job fails on the last item and removes it.
    answer = _post_json(pod, project, _large_body(bad_last_item=True), cast)
    assert answer.status_code == 201, answer.text
    job_id = answer.json()["import"]
    assert len(bucket_objects(s3_endpoint)) == len(before) + 1
    assert jobs.import_tasks.run(job_id) == "failed"
    failed = pod.client.get(
        f"/api/projects/{project}/imports/{job_id}", headers=cast.owner.headers
    ).json()
    assert failed["status"] == "failed"
    assert (
        failed["error"] == f'Error at item {LARGE_TASKS - 1}: "text" key is expected in task data'
    )

    assert bucket_objects(s3_endpoint) == before
    assert not [key for key in bucket_objects(s3_endpoint) if f"/{project}/" in key]
    assert (pod.rows(Task, project), pod.rows(FileUpload, project)) == (0, 0)


def test_a_body_over_the_limit_is_aborted_in_the_bucket(
    pod: S3Pod, s3_endpoint: str, cast: Any, make_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent without a length, the body is refused once past the limit: the part already
    uploaded is aborted, so the bucket holds neither an object nor an open upload."""
    project = make_project(label_config=TEXT_CONFIG)
    settings = pod.runtime.http_app.state.settings
    monkeypatch.setattr(settings, "import_max_bytes", 9 * 1024 * 1024)
    before = bucket_objects(s3_endpoint)
    body = _large_body()
    chunks = (body[start : start + 65536] for start in range(0, len(body), 65536))
    answer = pod.client.post(
        f"/api/projects/{project}/import",
        content=chunks,
        headers={**cast.owner.headers, "Content-Type": "application/json"},
    )
    assert answer.status_code == 413, answer.text
    assert str(9 * 1024 * 1024) in answer.json()["detail"]
    assert bucket_objects(s3_endpoint) == before
    uploads_open = bucket_client(s3_endpoint).list_multipart_uploads(Bucket=BUCKET)
    assert not uploads_open.get("Uploads")
    assert pod.rows(Task, project) == 0


def test_a_stored_file_reads_as_a_buffered_stream() -> None:
    """Chunks of any size (empty ones too) read back exactly, line by line, and closing
    the stream closes the storage's iterator (an S3 body is released)."""
    closed: list[bool] = []

    def chunks() -> Iterator[bytes]:
        try:
            yield from (b"first li", b"", b"ne\nsec", b"ond line\n", b"x" * 100_000, b"\nend")
        finally:
            closed.append(True)

    class OneFile:
        def read(self, key: str, *, chunk_size: int) -> Iterator[bytes]:
            assert key == "import-bodies/a.txt"
            return chunks()

    stream = uploads.open_stored(OneFile(), "import-bodies/a.txt")
    with stream:
        lines = list(stream)
    assert lines == [b"first line\n", b"second line\n", b"x" * 100_000 + b"\n", b"end"]
    assert closed == [True]

"""A snapshot written to an S3 export storage, end to end through the official SDK against
`labelops serve --target all` (storage-sync and export-svc in one process, the embedded
worker on the `exports` queue), on moto's S3 server.

`target_storage_id` is LabelOps' extension: the SDK has no such argument, so it goes in
`request_options["additional_body_parameters"]`; the SDK's own calls (create, get,
download) work unchanged, and the answer's `target_storage` is an extra field its models
keep.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from label_studio_sdk import LabelStudio
from labelops_testing import emulators

from .conftest import ADMIN_TOKEN  # type: ignore[import-not-found]

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Labels name="label" toName="text"><Label value="PER"/></Labels>
</View>"""
ALICE = [
    {
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]},
    }
]
ACCESS_KEY = "AKIASDKEXPORTTARGET1"
SECRET_KEY = "sdk-export-target-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulators.moto_s3(tmp_path_factory.mktemp("moto-sdk-targets")) as endpoint:
        yield endpoint


def test_the_sdk_writes_a_snapshot_to_an_s3_export_storage(suite: Any, s3_endpoint: str) -> None:
    s3 = emulators.moto_s3_client(s3_endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    bucket = f"sdk-exports-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    sdk = LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)
    project = sdk.projects.create(title="SDK export to storage", label_config=CONFIG)
    assert project.id is not None
    task = sdk.tasks.create(project=project.id, data={"text": "Alice"})
    assert task.id is not None
    sdk.annotations.create(id=task.id, result=ALICE)
    storage = sdk.export_storage.s3.create(
        project=project.id,
        title="Team exports",
        bucket=bucket,
        prefix="labelops",
        s3endpoint=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    assert storage.id is not None

    snapshot = sdk.projects.exports.create(
        project.id,
        title="to the team bucket",
        request_options={"additional_body_parameters": {"target_storage_id": storage.id}},
    )
    assert snapshot.id is not None
    deadline = time.monotonic() + 120
    while True:
        current = sdk.projects.exports.get(project.id, snapshot.id)
        target: dict[str, Any] = (current.model_extra or {}).get("target_storage") or {}
        if current.status == "completed" and target.get("status") in ("completed", "failed"):
            break
        assert current.status != "failed", current
        assert time.monotonic() < deadline, current
        time.sleep(0.5)

    key = f"labelops/project-{project.id}-export-{snapshot.id}.json"
    assert target["status"] == "completed", target
    assert target["uri"] == f"s3://{bucket}/{key}"
    downloaded = b"".join(
        sdk.projects.exports.download(project.id, snapshot.id, export_type="JSON")
    )
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == downloaded
    assert b'"Alice"' in downloaded

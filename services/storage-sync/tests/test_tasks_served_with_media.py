"""task-svc serves tasks whose data holds storage references with URLs a browser can open:
presigned through storage-sync's `ResolveUris`, or storage-sync's proxy when the storage
does not presign."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import Api, Stack, s3_body


def test_task_answers_carry_presigned_urls(
    api: Api, stack: Stack, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="served/cat.jpg", Body=b"served-cat")
    project_id = api.project()
    storage = api.create(
        "s3", s3_body(project_id, s3_endpoint, bucket, prefix="served", use_blob_urls=True)
    ).json()
    api.sync("s3", storage["id"])
    (task,) = api.tasks(project_id)
    headers = api.cast.owner.headers
    served = stack.task.get(f"/api/tasks/{task['id']}", headers=headers).json()
    url = served["data"]["image"]
    assert url.startswith(s3_endpoint) and "X-Amz-Signature" in url
    assert httpx.get(url).content == b"served-cat"
    raw = stack.task.get(f"/api/tasks/{task['id']}?resolve_uri=false", headers=headers).json()
    assert raw["data"]["image"] == f"s3://{bucket}/served/cat.jpg"
    labeling = stack.task.get(f"/api/projects/{project_id}/next", headers=headers)
    assert labeling.status_code == 200, labeling.text
    assert "X-Amz-Signature" in labeling.json()["data"]["image"]


def test_without_presigning_tasks_point_at_the_proxy(
    api: Api, stack: Stack, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="proxied/dog.jpg", Body=b"proxied-dog")
    project_id = api.project()
    storage = api.create(
        "s3",
        s3_body(
            project_id, s3_endpoint, bucket, prefix="proxied", use_blob_urls=True, presign=False
        ),
    ).json()
    api.sync("s3", storage["id"])
    (task,) = api.tasks(project_id)
    headers = api.cast.owner.headers
    served = stack.task.get(f"/api/tasks/{task['id']}", headers=headers).json()
    url = served["data"]["image"]
    assert url.startswith(f"/tasks/{task['id']}/resolve/?fileuri=")
    proxied = stack.storage.get(url, headers=headers)
    assert proxied.status_code == 200, proxied.text
    assert proxied.content == b"proxied-dog"
    assert proxied.headers["content-type"] == "image/jpeg"
    assert stack.storage.get(url).status_code == 401
    assert stack.storage.get(url, headers=api.cast.outsider.headers).status_code == 404

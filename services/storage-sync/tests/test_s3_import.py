"""S3 import storages against moto's S3 server: create, validate, sync, re-sync, filters."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from .conftest import TEXT_CONFIG, Api, Db, Stack, s3_body


def put(s3: Any, bucket: str, keys: list[str], body: bytes = b"x") -> None:
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=body)


def test_create_answers_masked_credentials_and_stores_them_sealed(
    api: Api, db: Db, s3_endpoint: str, bucket: str
) -> None:
    project_id = api.project()
    answer = api.create("s3", s3_body(project_id, s3_endpoint, bucket, prefix="images/"))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["type"] == "s3"
    assert body["bucket"] == bucket
    assert body["prefix"] == "images"
    assert body["aws_access_key_id"] == "********"
    assert body["aws_secret_access_key"] == "********"
    assert body["aws_session_token"] is None
    assert body["status"] == "initialized"
    (stored,) = db.storages(project_id)
    assert "storage-sync-test-secret" not in stored.secrets
    assert "storage-sync-test-secret" not in json.dumps(stored.settings)


def test_missing_bucket_invalid_regex_and_unknown_field_create_nothing(
    api: Api, db: Db, s3_endpoint: str
) -> None:
    project_id = api.project()
    missing = api.create("s3", s3_body(project_id, s3_endpoint, "no-such-bucket-here"))
    assert missing.status_code == 400, missing.text
    assert "bucket" in missing.json()["validation_errors"]
    assert (
        "NoSuchBucket" in missing.json()["validation_errors"]["bucket"][0]
        or "404" in (missing.json()["validation_errors"]["bucket"][0])
    )
    bad_regex = api.create("s3", s3_body(project_id, s3_endpoint, "any-bucket", regex_filter="(["))
    assert bad_regex.status_code == 400
    assert "regex_filter" in bad_regex.json()["validation_errors"]
    bad_name = api.create("s3", s3_body(project_id, s3_endpoint, "Bad_Bucket"))
    assert bad_name.status_code == 400
    assert "bucket" in bad_name.json()["validation_errors"]
    half = s3_body(project_id, s3_endpoint, "any-bucket")
    del half["aws_secret_access_key"]
    half_credentials = api.create("s3", half)
    assert half_credentials.status_code == 400
    assert "aws_secret_access_key" in half_credentials.json()["validation_errors"]
    unknown = api.create("s3", {**s3_body(project_id, s3_endpoint, "any-bucket"), "buckett": "x"})
    assert unknown.status_code == 400
    assert "buckett" in unknown.json()["validation_errors"]
    assert db.storages(project_id) == []


def test_validate_answers_200_or_400_and_fills_blanks_from_a_saved_storage(
    api: Api, stack: Stack, s3_endpoint: str, bucket: str
) -> None:
    project_id = api.project()
    headers = api.cast.owner.headers
    good = stack.storage.post(
        "/api/storages/s3/validate", json=s3_body(project_id, s3_endpoint, bucket), headers=headers
    )
    assert good.status_code == 200, good.text
    created = api.create("s3", s3_body(project_id, s3_endpoint, bucket)).json()
    # The saved storage's credentials fill the blanks (the answer masked them).
    again = stack.storage.post(
        "/api/storages/s3/validate",
        json={
            "id": created["id"],
            "project": project_id,
            "bucket": bucket,
            "s3_endpoint": s3_endpoint,
            "aws_access_key_id": "********",
        },
        headers=headers,
    )
    assert again.status_code == 200, again.text
    endpoint_refused = stack.storage.post(
        "/api/storages/s3/validate",
        json=s3_body(project_id, "ftp://example.com", bucket),
        headers=headers,
    )
    assert endpoint_refused.status_code == 400
    assert "s3_endpoint" in endpoint_refused.json()["validation_errors"]


def test_sync_makes_one_task_per_object_and_resync_adds_only_new_objects(
    api: Api, db: Db, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    project_id = api.project()
    put(s3, bucket, [f"images/{n:03d}.jpg" for n in range(20)] + ["other/skip.jpg"])
    storage = api.create(
        "s3", s3_body(project_id, s3_endpoint, bucket, prefix="images", use_blob_urls=True)
    ).json()
    synced = api.sync("s3", storage["id"])
    assert synced["status"] == "completed", synced
    assert synced["last_sync_count"] == 20
    assert synced["last_sync"] is not None
    tasks = api.tasks(project_id)
    assert sorted(task["data"]["image"] for task in tasks) == [
        f"s3://{bucket}/images/{n:03d}.jpg" for n in range(20)
    ]
    # New objects after the checkpoint and before it (found by the full listing).
    put(s3, bucket, ["images/100.jpg", "images/101.jpg"])
    again = api.sync("s3", storage["id"])
    assert again["last_sync_count"] == 2
    assert again["meta"]["objects_listed"] == 2  # only what follows the checkpoint
    assert len(api.tasks(project_id)) == 22
    nothing = api.sync("s3", storage["id"])
    assert nothing["last_sync_count"] == 0
    assert len(api.tasks(project_id)) == 22
    # A key sorting before the checkpoint waits for a full listing, asked for here.
    put(s3, bucket, ["images/000a.jpg"])
    assert api.sync("s3", storage["id"])["last_sync_count"] == 0
    headers = api.cast.owner.headers
    answer = api.stack.storage.post(
        f"/api/storages/s3/{storage['id']}/sync?full=true", headers=headers
    )
    assert answer.status_code == 200
    full = api.sync("s3", storage["id"])
    assert full["last_sync_count"] == 1
    assert full["meta"]["full_scan"] is True
    assert full["meta"]["objects_listed"] == 23
    assert len(api.tasks(project_id)) == 23
    assert len(db.imported(storage["id"])) == 23


def test_regex_filter_and_recursive_scan(api: Api, s3: Any, s3_endpoint: str, bucket: str) -> None:
    project_id = api.project()
    put(s3, bucket, ["a.jpg", "b.png", "c.jpg", "deep/d.jpg", "deep/e.png"])
    flat = api.create(
        "s3", s3_body(project_id, s3_endpoint, bucket, use_blob_urls=True, regex_filter=r".*\.jpg$")
    ).json()
    assert api.sync("s3", flat["id"])["last_sync_count"] == 2  # a.jpg, c.jpg
    other = api.project()
    deep = api.create(
        "s3",
        s3_body(
            other,
            s3_endpoint,
            bucket,
            use_blob_urls=True,
            regex_filter=r".*\.jpg$",
            recursive_scan=True,
        ),
    ).json()
    assert api.sync("s3", deep["id"])["last_sync_count"] == 3
    assert sorted(t["data"]["image"] for t in api.tasks(other)) == [
        f"s3://{bucket}/a.jpg",
        f"s3://{bucket}/c.jpg",
        f"s3://{bucket}/deep/d.jpg",
    ]


def test_sync_of_json_and_jsonl_tasks(api: Api, s3: Any, s3_endpoint: str, bucket: str) -> None:
    project_id = api.project(TEXT_CONFIG)
    s3.put_object(Bucket=bucket, Key="tasks/one.json", Body=json.dumps({"text": "plain"}))
    s3.put_object(
        Bucket=bucket,
        Key="tasks/many.json",
        Body=json.dumps(
            [{"data": {"text": "first"}}, {"data": {"text": "second"}, "meta": {"m": 1}}]
        ),
    )
    s3.put_object(
        Bucket=bucket,
        Key="tasks/lines.jsonl",
        Body=b'{"text": "line 1"}\n{"text": "line 2"}\n',
    )
    storage = api.create("s3", s3_body(project_id, s3_endpoint, bucket, prefix="tasks")).json()
    synced = api.sync("s3", storage["id"])
    assert synced["status"] == "completed", synced
    assert synced["last_sync_count"] == 5
    texts = sorted(task["data"]["text"] for task in api.tasks(project_id))
    assert texts == ["first", "line 1", "line 2", "plain", "second"]
    assert api.sync("s3", storage["id"])["last_sync_count"] == 0


def test_a_non_task_object_fails_the_sync_with_the_reason(
    api: Api, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    project_id = api.project(TEXT_CONFIG)
    s3.put_object(Bucket=bucket, Key="tasks/picture.jpg", Body=b"\xff\xd8")
    storage = api.create("s3", s3_body(project_id, s3_endpoint, bucket, prefix="tasks")).json()
    synced = api.sync("s3", storage["id"])
    assert synced["status"] == "failed"
    assert "picture.jpg" in synced["traceback"]
    assert "use_blob_urls" in synced["traceback"]
    assert api.tasks(project_id) == []


def test_two_sync_requests_at_once_share_one_job(
    api: Api, db: Db, stack: Stack, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    project_id = api.project()
    put(s3, bucket, ["x.jpg"])
    storage = api.create("s3", s3_body(project_id, s3_endpoint, bucket, use_blob_urls=True)).json()
    for _ in range(2):
        answer = stack.storage.post(
            f"/api/storages/s3/{storage['id']}/sync", headers=api.cast.owner.headers
        )
        assert answer.status_code == 200
        assert answer.json()["status"] == "queued"
    assert len(db.jobs(storage["id"])) == 1
    assert len(api.sent) == 1


def test_permissions_annotators_and_other_organizations(
    api: Api, stack: Stack, s3_endpoint: str, bucket: str
) -> None:
    project_id = api.project()
    hidden_project = api.project()
    # The annotator is a member of the first project only (before storage-sync caches it).
    member = api.stack.project.post(
        f"/api/projects/{project_id}/members/",
        json={"user": api.cast.annotator.user_id},
        headers=api.cast.owner.headers,
    )
    assert member.status_code == 201, member.text
    storage = api.create("s3", s3_body(project_id, s3_endpoint, bucket)).json()
    hidden = api.create("s3", s3_body(hidden_project, s3_endpoint, bucket)).json()
    path = f"/api/storages/s3/{storage['id']}"
    assert stack.storage.get(path).status_code == 401
    assert stack.storage.get(path, headers=api.cast.outsider.headers).status_code == 404
    # A member annotator may not manage storages; a project it does not see is not found.
    assert stack.storage.get(path, headers=api.cast.annotator.headers).status_code == 403
    hidden_path = f"/api/storages/s3/{hidden['id']}"
    assert stack.storage.get(hidden_path, headers=api.cast.annotator.headers).status_code == 404
    assert (
        api.create(
            "s3", s3_body(project_id, s3_endpoint, bucket), actor=api.cast.annotator
        ).status_code
        == 403
    )
    listed = stack.storage.get(
        f"/api/storages/?project={project_id}", headers=api.cast.owner.headers
    )
    assert [item["id"] for item in listed.json()] == [storage["id"]]
    assert stack.storage.delete(path, headers=api.cast.outsider.headers).status_code == 404
    assert stack.storage.delete(path, headers=api.cast.owner.headers).status_code == 204
    assert stack.storage.get(path, headers=api.cast.owner.headers).status_code == 404


def test_presigned_url_is_fetched_back(
    api: Api, stack: Stack, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    project_id = api.project()
    s3.put_object(Bucket=bucket, Key="pics/cat.jpg", Body=b"meow-bytes")
    storage = api.create(
        "s3",
        s3_body(project_id, s3_endpoint, bucket, prefix="pics", use_blob_urls=True, presign_ttl=5),
    ).json()
    api.sync("s3", storage["id"])
    (task,) = api.tasks(project_id)
    fileuri = base64.urlsafe_b64encode(task["data"]["image"].encode()).decode()
    answer = stack.storage.get(
        f"/tasks/{task['id']}/resolve/?fileuri={fileuri}",
        headers=api.cast.owner.headers,
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert "max-age=300" in answer.headers["cache-control"]
    url = answer.headers["location"]
    assert "X-Amz-Signature" in url and "X-Amz-Expires=300" in url
    assert httpx.get(url).content == b"meow-bytes"
    # Another organization cannot resolve it.
    outsider = stack.storage.get(
        f"/tasks/{task['id']}/resolve/?fileuri={fileuri}",
        headers=api.cast.outsider.headers,
        follow_redirects=False,
    )
    assert outsider.status_code == 404


def test_a_sync_failing_half_way_leaves_whole_pages_and_resumes_without_duplicates(
    api: Api, db: Db, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    """Pages of five objects (the test stack's listing page size): the third page holds a
    task task-svc refuses, so the sync fails there with the reason; the first two pages'
    tasks exist whole, the third page's not at all. Fixed, the next sync adds the rest."""
    project_id = api.project(TEXT_CONFIG)
    for n in range(15):
        task = {"text": f"task {n}"} if n != 12 else {"wrong": "no text here"}
        s3.put_object(Bucket=bucket, Key=f"t/{n:02d}.json", Body=json.dumps(task))
    storage = api.create("s3", s3_body(project_id, s3_endpoint, bucket, prefix="t")).json()
    failed = api.sync("s3", storage["id"])
    assert failed["status"] == "failed", failed
    assert "text" in failed["traceback"]
    texts = sorted(task["data"]["text"] for task in api.tasks(project_id))
    assert texts == sorted(f"task {n}" for n in range(10))
    assert db.imported(storage["id"]) == [f"t/{n:02d}.json" for n in range(10)]
    # Progress was reported page by page, as far as the sync got (Label Studio's fields).
    assert failed["last_sync_count"] == 10
    assert failed["meta"]["objects_imported"] == 10
    assert failed["meta"]["tasks_existed"] == 0
    assert failed["meta"]["time_last_ping"] >= failed["meta"]["time_in_progress"]
    s3.put_object(Bucket=bucket, Key="t/12.json", Body=json.dumps({"text": "task 12"}))
    fixed = api.sync("s3", storage["id"])
    assert fixed["status"] == "completed", fixed
    assert fixed["last_sync_count"] == 5
    texts = sorted(task["data"]["text"] for task in api.tasks(project_id))
    assert texts == sorted(f"task {n}" for n in range(15))

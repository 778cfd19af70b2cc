"""storage-sync's audit entries: a storage's life (create, change, sync, delete) in its
own transactions, its credentials never in an entry, a refused create leaving none."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from storage_sync.audit.models import AuditEntry

from .conftest import S3_ACCESS_KEY, S3_SECRET_KEY, Api, Cast, s3_body

ROTATED_SECRET = "rotated-storage-secret-0123456789abcdef"


def entries(api: Api, project_id: int) -> list[AuditEntry]:
    with api.stack.storage_runtime.database.session() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.project_id == project_id)
                .order_by(AuditEntry.id)
            )
        )


def test_a_storage_life_is_recorded_without_its_credentials(
    api: Api, cast: Cast, s3: Any, s3_endpoint: str, bucket: str
) -> None:
    project_id = api.project()
    refused = api.create("s3", s3_body(project_id, s3_endpoint, "no-such-bucket-at-all"))
    assert refused.status_code == 400
    assert entries(api, project_id) == []

    created = api.create("s3", s3_body(project_id, s3_endpoint, bucket, prefix="images/"))
    assert created.status_code == 201, created.text
    storage_id = created.json()["id"]
    s3.put_object(Bucket=bucket, Key="images/a.jpg", Body=b"x")
    changed = api.stack.storage.patch(
        f"/api/storages/s3/{storage_id}",
        json={"title": "Renamed", "aws_secret_access_key": ROTATED_SECRET},
        headers=cast.owner.headers,
    )
    assert changed.status_code == 200, changed.text
    api.sync("s3", storage_id)
    deleted = api.stack.storage.delete(f"/api/storages/s3/{storage_id}", headers=cast.owner.headers)
    assert deleted.status_code == 204

    rows = entries(api, project_id)
    assert [(row.action, row.object_type, row.object_id) for row in rows] == [
        ("storage.created", "s3_import_storage", str(storage_id)),
        ("storage.updated", "s3_import_storage", str(storage_id)),
        ("storage.synced", "s3_import_storage", str(storage_id)),
        ("storage.deleted", "s3_import_storage", str(storage_id)),
    ]
    assert rows[0].changes["settings.bucket"] == {"old": None, "new": bucket}
    assert rows[1].changes["title"] == {"old": "Images", "new": "Renamed"}
    assert rows[1].changes["secrets"] == {"old": "***", "new": "***"}
    assert all(row.actor_id == cast.owner.user_id for row in rows)
    text = json.dumps([row.changes for row in rows])
    for secret in (S3_SECRET_KEY, ROTATED_SECRET, S3_ACCESS_KEY):
        assert secret not in text

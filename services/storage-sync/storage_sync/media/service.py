"""Media references in task data, resolved for the browser and for ML backends.

A reference is `s3://bucket/key`, `gs://bucket/key`, `azure-blob://container/key` or a
local-files URL (`/data/local-files/?d=...`). It resolves through an import storage of the
project pointing at the same bucket: to a presigned URL valid `presign_ttl` minutes when the
storage presigns, else to this service's proxy (`/tasks/<id>/resolve/?fileuri=...`).
Storages are matched on type, bucket and project, without connecting.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage_sync.backends import STORAGE_TYPES, ConnectContext, StorageConnectionError
from storage_sync.backends.localfiles import local_files_reference
from storage_sync.storages import service as storages
from storage_sync.storages.models import IMPORT, Storage
from storage_sync.storages.secrets import SecretBox
from storage_sync.sync import metrics


@dataclass(frozen=True)
class Resolved:
    storage: Storage
    key: str
    #: The presigned URL, or None when the storage does not presign (proxy it).
    url: str | None


def decode_fileuri(fileuri: str) -> str:
    """Label Studio's `fileuri`: URL-safe base64 first, else the URL-quoted text."""
    padded = fileuri + "=" * (-len(fileuri) % 4)
    try:
        decoded = base64.urlsafe_b64decode(padded.encode()).decode("utf-8")
        if "://" in decoded or decoded.startswith("/data/local-files"):
            return decoded
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    return unquote(fileuri)


def encode_fileuri(uri: str) -> str:
    return base64.urlsafe_b64encode(uri.encode()).decode()


def _scheme_and_bucket(uri: str) -> tuple[str, str] | None:
    if "://" not in uri:
        return None
    scheme, rest = uri.split("://", 1)
    bucket = rest.split("/", 1)[0]
    return scheme, bucket


def candidate_storages(
    session: Session, *, uri: str, organization_id: int, project_id: int | None = None
) -> list[Storage]:
    """Import storages that could hold `uri` (same type and bucket), of one project or of
    every project of the organization."""
    statement = select(Storage).where(
        Storage.direction == IMPORT, Storage.organization_id == organization_id
    )
    if project_id is not None:
        statement = statement.where(Storage.project_id == project_id)
    reference = local_files_reference(uri)
    found: list[Storage] = []
    parsed = _scheme_and_bucket(uri)
    for storage in session.scalars(statement.order_by(Storage.id)):
        kind = STORAGE_TYPES.get(storage.type)
        if kind is None:
            continue
        if (reference is not None and kind.name == "localfiles") or (
            parsed is not None
            and kind.scheme == parsed[0]
            and kind.bucket_of(storage.settings or {}) == parsed[1]
        ):
            found.append(storage)
    return found


def resolve(
    storage: Storage, uri: str, *, box: SecretBox, context: ConnectContext, ttl_seconds: int = 0
) -> Resolved | None:
    """The URI through this storage, or None if it does not hold it."""
    try:
        backend = storages.connect(storage, box=box, context=context)
    except StorageConnectionError:
        metrics.SYNC_ERRORS.labels(storage.type, "resolve").inc()
        return None
    key = backend.key_of(uri)
    if key is None:
        return None
    url = None
    if storage.presign:
        try:
            url = backend.presign(key, ttl_seconds=ttl_seconds or storage.presign_ttl * 60)
        except StorageConnectionError:
            metrics.SYNC_ERRORS.labels(storage.type, "resolve").inc()
            url = None
    return Resolved(storage=storage, key=key, url=url)

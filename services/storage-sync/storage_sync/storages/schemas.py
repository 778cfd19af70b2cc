"""Request and answer shapes of the storage endpoints, in Label Studio's field names.

Each storage type declares its own fields (`backends/<type>`); the models here are built
from them, one request and one answer model per type and direction, so every route
declares exactly what it takes and answers and the OpenAPI document lists each type's
fields. Credentials are write-only: answers carry `MASK` when one is stored, else null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from storage_sync.backends import STORAGE_TYPES, StorageType
from storage_sync.storages.models import EXPORT, IMPORT, Storage
from storage_sync.storages.secrets import MASK

#: Longest `presign_ttl`, in minutes (a presigned URL lives at most seven days).
MAX_PRESIGN_TTL_MINUTES = 7 * 24 * 60


class StorageRequest(BaseModel):
    """Fields every storage takes; all optional so one model serves create, PATCH and
    validate (create checks the required ones and names any that is missing)."""

    model_config = ConfigDict(extra="forbid")

    #: Label Studio's validate takes the id of a saved storage whose credentials fill blanks.
    id: int | None = None
    type: str | None = None
    project: int | None = None
    title: str | None = Field(default=None, max_length=2048)
    description: str | None = None
    regex_filter: str | None = None
    use_blob_urls: bool | None = None
    synchronizable: bool | None = None


class ImportStorageRequest(StorageRequest):
    presign: bool | None = None
    presign_ttl: int | None = Field(default=None, ge=1, le=MAX_PRESIGN_TTL_MINUTES)
    recursive_scan: bool | None = None


class ExportStorageRequest(StorageRequest):
    can_delete_objects: bool | None = None


class StorageAnswer(BaseModel):
    id: int
    type: str
    title: str | None
    description: str | None
    project: int
    created_at: datetime
    synchronizable: bool
    regex_filter: str | None
    use_blob_urls: bool
    last_sync: datetime | None
    last_sync_count: int | None
    last_sync_job: str | None
    status: str
    traceback: str | None
    meta: dict[str, Any]


class ImportStorageAnswer(StorageAnswer):
    presign: bool
    presign_ttl: int
    recursive_scan: bool


class ExportStorageAnswer(StorageAnswer):
    can_delete_objects: bool


class AnyStorageAnswer(StorageAnswer):
    """An item of `GET /api/storages/?project=`: every type, each with its own fields."""

    model_config = ConfigDict(extra="allow")


class StorageTypeAnswer(BaseModel):
    name: str
    title: str


def _camel(kind: type[StorageType]) -> str:
    return {"s3": "S3", "gcs": "Gcs", "azure": "Azure", "redis": "Redis"}.get(
        kind.name, "LocalFiles"
    )


def _type_fields(kind: type[StorageType], *, answer: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for spec in kind.fields:
        annotation: Any = str | None if spec.secret else spec.kind | None
        fields[spec.name] = (annotation, None)
    return fields


def _models() -> dict[tuple[str, str, str], type[BaseModel]]:
    built: dict[tuple[str, str, str], type[BaseModel]] = {}
    for kind in STORAGE_TYPES.values():
        name = _camel(kind)
        for direction, request_base, answer_base in (
            (IMPORT, ImportStorageRequest, ImportStorageAnswer),
            (EXPORT, ExportStorageRequest, ExportStorageAnswer),
        ):
            label = "Import" if direction == IMPORT else "Export"
            built[(kind.name, direction, "request")] = create_model(
                f"{name}{label}StorageRequest",
                __base__=request_base,
                **_type_fields(kind, answer=False),
            )
            built[(kind.name, direction, "answer")] = create_model(
                f"{name}{label}Storage",
                __base__=answer_base,
                **_type_fields(kind, answer=True),
            )
    return built


MODELS = _models()


def request_model(kind: str, direction: str) -> type[BaseModel]:
    return MODELS[(kind, direction, "request")]


def answer_model(kind: str, direction: str) -> type[BaseModel]:
    return MODELS[(kind, direction, "answer")]


def storage_fields(storage: Storage, *, secret_names: set[str]) -> dict[str, Any]:
    """The storage as Label Studio answers it; stored credentials appear as MASK."""
    kind = STORAGE_TYPES[storage.type]
    body: dict[str, Any] = {
        "id": storage.id,
        "type": storage.type,
        "title": storage.title,
        "description": storage.description,
        "project": storage.project_id,
        "created_at": storage.created_at,
        "synchronizable": storage.synchronizable,
        "regex_filter": storage.regex_filter or None,
        "use_blob_urls": storage.use_blob_urls,
        "last_sync": storage.last_sync,
        "last_sync_count": storage.last_sync_count,
        "last_sync_job": storage.last_sync_job,
        "status": storage.status,
        "traceback": storage.traceback,
        "meta": storage.meta or {},
    }
    if storage.direction == IMPORT:
        body.update(
            presign=storage.presign,
            presign_ttl=storage.presign_ttl,
            recursive_scan=storage.recursive_scan,
        )
    else:
        body["can_delete_objects"] = storage.can_delete_objects
    for spec in kind.fields:
        if spec.secret:
            body[spec.name] = MASK if spec.name in secret_names else None
        else:
            body[spec.name] = (storage.settings or {}).get(spec.name, spec.default)
    return body

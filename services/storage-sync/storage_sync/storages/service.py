"""Storage connections: create, change, validate, list, delete, and asking for a sync.

Every function takes the session; the caller commits. A connection is checked live
(credentials, bucket, endpoint) before it is saved, so a storage that cannot work is
refused with 400 naming the field and the reason, and nothing is written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import NotFound, ValidationFailed
from labelops_common.jobs import JobStatus
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage_sync.backends import (
    STORAGE_TYPES,
    ConnectContext,
    StorageBackend,
    StorageConnectionError,
    StorageType,
)
from storage_sync.storages.models import IMPORT, Storage, SyncJob
from storage_sync.storages.secrets import MASK, SecretBox

logger = logging.getLogger(__name__)

#: Fields that decide which objects a listing finds: changing one restarts the listing.
LISTING_FIELDS = frozenset(
    {"bucket", "container", "prefix", "path", "regex_filter", "recursive_scan"}
)
_COMMON_FIELDS = (
    "title",
    "description",
    "regex_filter",
    "use_blob_urls",
    "synchronizable",
    "presign",
    "presign_ttl",
    "recursive_scan",
    "can_delete_objects",
)
_DEFAULTS: dict[str, Any] = {
    "title": "",
    "description": "",
    "regex_filter": "",
    "use_blob_urls": False,
    "synchronizable": True,
    "presign": True,
    "presign_ttl": 1,
    "recursive_scan": False,
    "can_delete_objects": False,
}


def kind_of(name: str) -> type[StorageType]:
    kind = STORAGE_TYPES.get(name)
    if kind is None:
        raise NotFound()
    return kind


def check_regex(pattern: str) -> None:
    if not pattern:
        return
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValidationFailed(
            {"regex_filter": [f"Not a valid regular expression: {error}."]}
        ) from None


def connect(storage: Storage, *, box: SecretBox, context: ConnectContext) -> StorageBackend:
    """The storage's backend (StorageConnectionError if its settings cannot work)."""
    kind = STORAGE_TYPES[storage.type]
    return kind.connect(storage.settings or {}, box.open(storage.secrets), context)


def _split(
    kind: type[StorageType],
    body: BaseModel,
    *,
    stored_settings: Mapping[str, Any],
    stored_secrets: Mapping[str, str],
    partial: bool,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The type's settings and credentials after applying `body` to the stored ones.

    A credential left out, null, empty or MASK keeps the stored one (answers mask it).
    """
    sent = body.model_dump(exclude_unset=True)
    settings = dict(stored_settings)
    secrets = dict(stored_secrets)
    for spec in kind.fields:
        if spec.secret:
            value = sent.get(spec.name)
            if isinstance(value, str) and value and value != MASK:
                secrets[spec.name] = value
            continue
        if spec.name in sent:
            value = sent[spec.name]
            settings[spec.name] = spec.default if value is None else value
        elif not partial:
            settings.setdefault(spec.name, spec.default)
    for name in ("prefix", "path") if kind.name != "localfiles" else ("prefix",):
        if isinstance(settings.get(name), str):
            settings[name] = settings[name].strip("/")
    return settings, secrets


def _check_live(
    kind: type[StorageType],
    settings: Mapping[str, Any],
    secrets: Mapping[str, str],
    context: ConnectContext,
) -> None:
    """Field errors, then a live connection check; ValidationFailed names the field."""
    errors = kind.check_settings(settings)
    if errors:
        raise ValidationFailed(errors)
    try:
        kind.connect(settings, secrets, context).validate()
    except StorageConnectionError as error:
        raise ValidationFailed({error.field: [error.reason]}) from None


def _common_values(body: BaseModel, *, partial: bool) -> dict[str, Any]:
    sent = body.model_dump(exclude_unset=True)
    values: dict[str, Any] = {}
    for name in _COMMON_FIELDS:
        if name in sent:
            value = sent[name]
            values[name] = _DEFAULTS[name] if value is None else value
        elif not partial:
            values[name] = _DEFAULTS[name]
    return values


def validate_connection(
    session: Session,
    *,
    kind: type[StorageType],
    direction: str,
    project: ProjectInfo | None,
    body: BaseModel,
    box: SecretBox,
    context: ConnectContext,
) -> None:
    """Label Studio's `validate`: the body as for create; a saved storage's `id` fills
    the credentials left blank (only a storage of the same project, type and direction)."""
    stored_settings: dict[str, Any] = {}
    stored_secrets: dict[str, str] = {}
    storage_id = getattr(body, "id", None)
    if storage_id is not None:
        saved = session.get(Storage, storage_id)
        if (
            saved is None
            or saved.type != kind.name
            or saved.direction != direction
            or project is None
            or saved.project_id != project.id
        ):
            raise ValidationFailed({"id": [f"No {kind.name} storage {storage_id} here."]})
        stored_settings, stored_secrets = dict(saved.settings or {}), box.open(saved.secrets)
    check_regex(getattr(body, "regex_filter", None) or "")
    settings, secrets = _split(
        kind, body, stored_settings=stored_settings, stored_secrets=stored_secrets, partial=False
    )
    _check_live(kind, settings, secrets, context)


def create_storage(
    session: Session,
    *,
    kind: type[StorageType],
    direction: str,
    project: ProjectInfo,
    body: BaseModel,
    box: SecretBox,
    context: ConnectContext,
) -> Storage:
    values = _common_values(body, partial=False)
    check_regex(values["regex_filter"])
    settings, secrets = _split(kind, body, stored_settings={}, stored_secrets={}, partial=False)
    _check_live(kind, settings, secrets, context)
    storage = Storage(
        direction=direction,
        type=kind.name,
        project_id=project.id,
        organization_id=project.organization_id,
        settings=settings,
        secrets=box.seal(secrets),
        status="initialized",
        meta={},
        **values,
    )
    session.add(storage)
    session.flush()
    logger.info(
        "storage created",
        extra={"storage_id": storage.id, "storage_type": kind.name, "direction": direction},
    )
    return storage


def update_storage(
    session: Session,
    *,
    storage: Storage,
    body: BaseModel,
    box: SecretBox,
    context: ConnectContext,
) -> Storage:
    kind = STORAGE_TYPES[storage.type]
    values = _common_values(body, partial=True)
    if "regex_filter" in values:
        check_regex(values["regex_filter"])
    settings, secrets = _split(
        kind,
        body,
        stored_settings=storage.settings or {},
        stored_secrets=box.open(storage.secrets),
        partial=True,
    )
    _check_live(kind, settings, secrets, context)
    changed = {
        name for name in settings if settings.get(name) != (storage.settings or {}).get(name)
    }
    changed |= {name for name, value in values.items() if getattr(storage, name) != value}
    if changed & LISTING_FIELDS:
        # Another prefix, filter or depth may admit keys before the old checkpoint.
        storage.scan_checkpoint = ""
        storage.full_scan_at = None
    for name, value in values.items():
        setattr(storage, name, value)
    storage.settings = settings
    storage.secrets = box.seal(secrets)
    session.flush()
    return storage


def get_storage(
    session: Session, *, storage_id: int, kind: str, direction: str, organization_id: int
) -> Storage:
    """The storage of this type and direction in the caller's organization, else 404."""
    storage = session.get(Storage, storage_id)
    if (
        storage is None
        or storage.type != kind
        or storage.direction != direction
        or storage.organization_id != organization_id
    ):
        raise NotFound()
    return storage


def list_storages(
    session: Session, *, project_id: int, direction: str, kind: str | None = None
) -> list[Storage]:
    statement = select(Storage).where(
        Storage.project_id == project_id, Storage.direction == direction
    )
    if kind is not None:
        statement = statement.where(Storage.type == kind)
    return list(session.scalars(statement.order_by(Storage.id)))


def delete_storage(session: Session, *, storage: Storage) -> None:
    """The storage, its sync jobs and its object records go; tasks it created stay (as in
    Label Studio), and so do the objects an export storage wrote."""
    session.delete(storage)
    session.flush()


def delete_project_storages(session: Session, *, project_id: int) -> int:
    """Every storage of a deleted project, as `delete_storage` removes one; how many.

    Its storages would otherwise stay forever, credentials included, and stay candidates
    for the organization's media."""
    deleted = session.execute(
        delete(Storage).where(Storage.project_id == project_id).returning(Storage.id)
    ).all()
    return len(deleted)


def request_sync(session: Session, *, storage: Storage, full: bool = False) -> tuple[SyncJob, bool]:
    """The storage's queued or running sync, or a new one; True if it is new. `full`
    makes the next import sync list the whole storage, not only what follows its checkpoint.

    The storage row is locked first, so two requests at once find one job between them.
    """
    session.execute(select(Storage.id).where(Storage.id == storage.id).with_for_update())
    if full:
        storage.full_scan_at = None
    active = session.scalar(
        select(SyncJob).where(
            SyncJob.storage_id == storage.id,
            SyncJob.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
        )
    )
    if active is not None:
        return active, False
    kind = "import_sync" if storage.direction == IMPORT else "export_sync"
    job = SyncJob(storage_id=storage.id, kind=kind, payload={}, max_attempts=5)
    session.add(job)
    session.flush()
    storage.status = "queued"
    storage.last_sync_job = str(job.id)
    storage.traceback = None
    meta = dict(storage.meta or {})
    meta["time_queued"] = job.created_at.isoformat() if job.created_at else None
    storage.meta = meta
    session.flush()
    return job, True

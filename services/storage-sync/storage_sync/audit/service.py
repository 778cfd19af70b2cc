"""storage-sync's audit entries: storages created, changed, deleted and synced.

A storage's credentials (`secrets`, encrypted) appear as changed with masked values, never
their contents; its `settings` (bucket, prefix, region, endpoint) field by field.
"""

from __future__ import annotations

from typing import Any

from labelops_common.audit import AuditActor, changes_between, column_values, record_audit
from sqlalchemy.orm import Session

from storage_sync.storages.models import Storage

#: What the syncs themselves keep on the row.
SYNC_STATE = (
    "status",
    "traceback",
    "meta",
    "last_sync",
    "last_sync_count",
    "last_sync_job",
    "scan_checkpoint",
    "full_scan_at",
    "settings",
)


def storage_state(storage: Storage) -> dict[str, Any]:
    state = column_values(storage, exclude=SYNC_STATE)
    for key, value in (storage.settings or {}).items():
        state[f"settings.{key}"] = value
    return state


def _object(storage: Storage) -> tuple[str, int]:
    return (f"{storage.type}_{storage.direction}_storage", storage.id)


def storage_created(session: Session, actor: AuditActor, storage: Storage) -> None:
    state = storage_state(storage)
    shown = {
        k: v
        for k, v in state.items()
        if k in {"title", "type", "direction"} or k.startswith("settings.")
    }
    record_audit(
        session,
        actor,
        "storage.created",
        _object(storage),
        project_id=storage.project_id,
        changes=changes_between({}, {k: v for k, v in shown.items() if v not in (None, "")}),
    )


def storage_updated(
    session: Session, actor: AuditActor, storage: Storage, *, before: dict[str, Any]
) -> None:
    changes = changes_between(before, storage_state(storage))
    if changes:
        record_audit(
            session,
            actor,
            "storage.updated",
            _object(storage),
            project_id=storage.project_id,
            changes=changes,
        )


def storage_deleted(session: Session, actor: AuditActor, storage: Storage) -> None:
    record_audit(
        session,
        actor,
        "storage.deleted",
        _object(storage),
        project_id=storage.project_id,
        changes={"title": {"old": storage.title, "new": None}},
    )


def storage_sync_requested(
    session: Session, actor: AuditActor, storage: Storage, *, full: bool, job_id: int
) -> None:
    record_audit(
        session,
        actor,
        "storage.synced",
        _object(storage),
        project_id=storage.project_id,
        changes={"full": {"old": None, "new": full}, "job": {"old": None, "new": job_id}},
    )

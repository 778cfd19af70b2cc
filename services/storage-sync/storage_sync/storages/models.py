"""Storage connections, and the syncs that run them (each sync is also a queued job)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type, utcnow
from labelops_common.jobs import JobRecordMixin
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage_sync.db import Base

#: A storage's `direction`: tasks come in (Label Studio's source storage) or go out (target).
IMPORT = "import"
EXPORT = "export"


class Storage(Base):
    """One import or export storage of a project (Label Studio's `<Type>ImportStorage` /
    `<Type>ExportStorage`, in one table: the type is a column, not a table).

    `settings` holds the type's plain fields (bucket, prefix, region, host, path, ...);
    `secrets` holds its credentials sealed with the service's key (`storages.secrets`),
    never returned by the API. `scan_checkpoint` is the last object key an import sync
    handled in key order: the next sync lists only what follows it.
    """

    __tablename__ = "storages"

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(16))
    project_id: Mapped[int] = mapped_column(BigInteger)
    organization_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(2048), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    regex_filter: Mapped[str] = mapped_column(Text, default="")
    use_blob_urls: Mapped[bool] = mapped_column(Boolean, default=False)
    presign: Mapped[bool] = mapped_column(Boolean, default=True)
    presign_ttl: Mapped[int] = mapped_column(Integer, default=1)
    recursive_scan: Mapped[bool] = mapped_column(Boolean, default=False)
    can_delete_objects: Mapped[bool] = mapped_column(Boolean, default=False)
    synchronizable: Mapped[bool] = mapped_column(Boolean, default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    secrets: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32), default="initialized")
    traceback: Mapped[str | None] = mapped_column(Text, default=None)
    meta: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    last_sync: Mapped[datetime | None] = mapped_column(default=None)
    last_sync_count: Mapped[int | None] = mapped_column(Integer, default=None)
    last_sync_job: Mapped[str | None] = mapped_column(String(64), default=None)
    scan_checkpoint: Mapped[str] = mapped_column(Text, default="")
    full_scan_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_storages_project", "project_id", "direction", "type"),
        Index("ix_storages_organization", "organization_id"),
    )


class SyncJob(JobRecordMixin, Base):
    """One sync of one storage, run by the `storage` queue.

    At most one is queued or running per storage (a partial unique index), so two sync
    requests at once share one job instead of racing.
    """

    __tablename__ = "sync_jobs"

    storage_id: Mapped[int] = mapped_column(ForeignKey("storages.id", ondelete="CASCADE"))

    __table_args__ = (
        Index("ix_sync_jobs_status_lease", "status", "lease_expires_at"),
        Index(
            "uq_sync_jobs_active_storage",
            "storage_id",
            unique=True,
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )


class ImportedObject(Base):
    """An object an import storage turned into tasks: a re-sync never imports it again."""

    __tablename__ = "imported_objects"

    storage_id: Mapped[int] = mapped_column(
        ForeignKey("storages.id", ondelete="CASCADE"), primary_key=True
    )
    object_key: Mapped[str] = mapped_column(Text, primary_key=True)
    task_count: Mapped[int] = mapped_column(Integer, default=0)
    first_task_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExportedTask(Base):
    """A task an export storage holds an object for (`<prefix>/<task id>.json`)."""

    __tablename__ = "exported_tasks"

    storage_id: Mapped[int] = mapped_column(
        ForeignKey("storages.id", ondelete="CASCADE"), primary_key=True
    )
    task_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    object_key: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(default=utcnow)

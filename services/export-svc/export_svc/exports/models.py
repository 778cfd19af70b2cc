"""Export snapshots and their converted files; each row is also the job that fills it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type
from labelops_common.jobs import JobRecordMixin
from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from export_svc.db import Base


class Export(JobRecordMixin, Base):
    """A snapshot of a project's tasks as Label Studio JSON, written by the `exports` queue.

    The job's status maps to Label Studio's (`queued` → created, `running` → in_progress,
    `succeeded` → completed, `failed`/`cancelled` → failed). The file is the JSON export,
    one task per line, under `artifact_key` in the artifact storage.

    A snapshot asked for with `target_storage_id` is also written to that export storage
    (storage-sync's) once its file is complete: `target_status` goes `queued` →
    `in_progress` → `completed` (the object is `target_uri`) or `failed` (`target_error`
    says why; the snapshot itself stays completed and downloadable).
    """

    __tablename__ = "exports"

    project_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(2048), default="")
    created_by_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    md5: Mapped[str] = mapped_column(String(128), default="")
    counters: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    artifact_key: Mapped[str | None] = mapped_column(String(1024), default=None)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    task_filter_options: Mapped[dict[str, Any] | None] = mapped_column(json_type(), default=None)
    annotation_filter_options: Mapped[dict[str, Any] | None] = mapped_column(
        json_type(), default=None
    )
    serialization_options: Mapped[dict[str, Any] | None] = mapped_column(json_type(), default=None)
    target_storage_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    target_status: Mapped[str | None] = mapped_column(String(16), default=None)
    target_uri: Mapped[str | None] = mapped_column(String(2048), default=None)
    target_error: Mapped[str | None] = mapped_column(Text, default=None)
    target_written_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_exports_status_lease", "status", "lease_expires_at"),
        Index("ix_exports_project_id", "project_id", "id"),
    )


class ConvertedFormat(JobRecordMixin, Base):
    """A snapshot converted to another format (`POST .../convert`), also a queued job."""

    __tablename__ = "converted_formats"

    export_id: Mapped[int] = mapped_column(ForeignKey("exports.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(BigInteger)
    export_type: Mapped[str] = mapped_column(String(64))
    md5: Mapped[str] = mapped_column(String(128), default="")
    artifact_key: Mapped[str | None] = mapped_column(String(1024), default=None)
    size: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        Index("ix_converted_formats_status_lease", "status", "lease_expires_at"),
        UniqueConstraint("export_id", "export_type", name="uq_converted_formats_export_type"),
    )

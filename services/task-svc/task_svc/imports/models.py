"""Uploaded files and import jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labelops_common.db import json_type, utcnow
from labelops_common.jobs import JobRecordMixin
from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from task_svc.db import Base, BigId


class FileUpload(Base):
    """A file a user uploaded to import; its bytes live under the data dir."""

    __tablename__ = "file_uploads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    #: Path relative to the uploads root: `upload/<project>/<8hex>-<name>`.
    file: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_file_uploads_project_id", "project_id"),)


class ImportJob(JobRecordMixin, Base):
    """One import; `result` holds the response counters Label Studio returns."""

    __tablename__ = "import_jobs"

    project_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    result: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    #: Set by the client (`Idempotency-Key`) or derived, so a retried POST is one import.
    request_key: Mapped[str | None] = mapped_column(String(128), default=None, unique=True)

"""ML backend connections: one row per model server a project uses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from labelops_common.db import json_type, utcnow
from sqlalchemy import BigInteger, Boolean, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ml_gateway.db import Base


class BackendState(StrEnum):
    """Label Studio's `state` codes."""

    CONNECTED = "CO"
    DISCONNECTED = "DI"
    ERROR = "ER"
    TRAINING = "TR"
    PREDICTING = "PR"


READABLE_STATES = {
    BackendState.CONNECTED: "Connected",
    BackendState.DISCONNECTED: "Disconnected",
    BackendState.ERROR: "Error",
    BackendState.TRAINING: "Training",
    BackendState.PREDICTING: "Predicting",
}


class AuthMethod(StrEnum):
    NONE = "NONE"
    BASIC_AUTH = "BASIC_AUTH"


class MLBackend(Base):
    """A model server speaking Label Studio's ML-backend protocol, connected to a project.

    `basic_auth_pass` is write-only: answers carry `basic_auth_pass_is_set` instead, and
    logs never see it.
    """

    __tablename__ = "ml_backends"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigInteger)
    organization_id: Mapped[int] = mapped_column(BigInteger)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(255), default="default")
    description: Mapped[str] = mapped_column(Text, default="")
    is_interactive: Mapped[bool] = mapped_column(Boolean, default=False)
    auth_method: Mapped[str] = mapped_column(String(16), default=AuthMethod.NONE.value)
    basic_auth_user: Mapped[str | None] = mapped_column(String(255), default=None)
    basic_auth_pass: Mapped[str | None] = mapped_column(Text, default=None)
    extra_params: Mapped[dict[str, Any] | None] = mapped_column(json_type(), default=None)
    timeout: Mapped[float] = mapped_column(default=100.0)
    model_version: Mapped[str] = mapped_column(String(255), default="")
    auto_update: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(2), default=BackendState.DISCONNECTED.value)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    #: New annotations since this backend last trained on annotation events (the project's
    #: `min_annotations_to_start_training` trains it every N-th).
    annotations_since_training: Mapped[int] = mapped_column(default=0)
    #: When `/health` and `/setup` were last called (the refresh sweep orders by it).
    checked_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_ml_backends_project_id", "project_id", "id"),
        Index("ix_ml_backends_checked_at", "checked_at"),
    )

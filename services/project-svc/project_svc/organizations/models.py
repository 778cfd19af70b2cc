from __future__ import annotations

from datetime import datetime

from labelops_common.db import utcnow
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from project_svc.db import Base


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(1000))
    contact_info: Mapped[str] = mapped_column(String(1000), default="")
    created_by_id: Mapped[int | None] = mapped_column(nullable=True)
    legacy_api_tokens_enabled: Mapped[bool] = mapped_column(default=True)
    api_tokens_enabled: Mapped[bool] = mapped_column(default=True)
    api_token_ttl_days: Mapped[int] = mapped_column(default=73_000)
    #: The secret of the invite link (`/user/signup/?token=...`); made on first read.
    invite_token: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Membership(Base):
    """A user's place in an organization; `role` drives every policy check."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id", name="uq_memberships_org_user"),
        Index("ix_memberships_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SessionPolicy(Base):
    """Label Studio's session timeout policy of an organization (`/api/session-policy/`), in
    minutes. An organization without a row has the install's defaults."""

    __tablename__ = "session_policies"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    max_session_age: Mapped[int]
    max_time_between_activity: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

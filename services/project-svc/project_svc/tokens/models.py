from __future__ import annotations

from datetime import datetime

from labelops_common.db import utcnow
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from project_svc.db import Base


class LegacyToken(Base):
    """A user's legacy API key (`Authorization: Token <key>`), one per user.

    Looked up by digest; the key itself is kept only encrypted with the suite's secret,
    because Label Studio's `GET /api/current-user/token` must show it to its owner.
    """

    __tablename__ = "legacy_tokens"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    key_ciphertext: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RefreshToken(Base):
    """A personal access token (a refresh JWT), recorded so it can be listed and revoked."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_preview: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    blacklisted_at: Mapped[datetime | None] = mapped_column(nullable=True, default=None)

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from project_svc.db import Base


class LoginAttempts(Base):
    """Sign-in attempts of one account or one client address in the current window.

    In the database, so the limit holds across processes and replicas.
    """

    __tablename__ = "login_attempts"

    #: `account:<email>` or `address:<ip>`.
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(index=True)

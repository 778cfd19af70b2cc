"""Sign-in throttling: failed attempts counted per account and per client address.

An attempt is counted before the password is checked, in one atomic upsert per key, so
concurrent guesses cannot slip past the limit; a success is then taken back off the
address's count and clears the account's. Counts live in a fixed window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from labelops_common.db import utcnow
from labelops_common.http.errors import Throttled
from sqlalchemy import case, delete, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from project_svc.accounts.models import LoginAttempts
from project_svc.users.service import normalize_email


@dataclass(frozen=True)
class LoginLimits:
    per_account: int
    per_address: int
    window: timedelta


def _account_key(email: str) -> str:
    return f"account:{normalize_email(email)}"


def _address_key(address: str) -> str:
    return f"address:{address}"


def _count_attempt(
    session: Session, *, key: str, now: datetime, window: timedelta
) -> tuple[int, datetime]:
    """Adds one attempt to `key`'s window (a new window if the last one ended)."""
    current = LoginAttempts.window_started_at > now - window
    statement = (
        insert(LoginAttempts)
        .values(key=key, attempts=1, window_started_at=now)
        .on_conflict_do_update(
            index_elements=[LoginAttempts.key],
            set_={
                "attempts": case((current, LoginAttempts.attempts + 1), else_=1),
                "window_started_at": case((current, LoginAttempts.window_started_at), else_=now),
            },
        )
        .returning(LoginAttempts.attempts, LoginAttempts.window_started_at)
    )
    attempts, started = session.execute(statement).one()
    return attempts, started


def count_login_attempt(session: Session, *, email: str, address: str, limits: LoginLimits) -> None:
    """Counts this attempt; raises `Throttled` (429) when the account or the address is over
    its limit, before any password is checked."""
    now = utcnow()
    session.execute(
        delete(LoginAttempts).where(LoginAttempts.window_started_at <= now - limits.window)
    )
    retry_after = 0
    for key, limit in (
        (_account_key(email), limits.per_account),
        (_address_key(address), limits.per_address),
    ):
        attempts, started = _count_attempt(session, key=key, now=now, window=limits.window)
        if attempts > limit:
            remaining = (started + limits.window - now).total_seconds()
            retry_after = max(retry_after, math.ceil(remaining), 1)
    session.commit()
    if retry_after:
        raise Throttled(retry_after)


def forget_successful_attempt(session: Session, *, email: str, address: str) -> None:
    """A success clears the account's failures and is not held against the address."""
    session.execute(delete(LoginAttempts).where(LoginAttempts.key == _account_key(email)))
    session.execute(
        update(LoginAttempts)
        .where(LoginAttempts.key == _address_key(address), LoginAttempts.attempts > 0)
        .values(attempts=LoginAttempts.attempts - 1)
    )

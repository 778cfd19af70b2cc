"""Retention: every service forgets audit entries older than `LABELOPS_AUDIT_RETENTION_DAYS`.

Each service adds an `AuditRetentionSweep` to its runtime's `sweeps`, which worker
processes run beside the stale-job sweeps (every 30 s); the sweep itself deletes at most
once per `interval`, in batches of `PURGE_BATCH_SIZE` rows, each batch its own
transaction, so a large backlog never holds a long lock. Running it in several processes
at once is harmless: each batch deletes what is still there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from labelops_common.audit.query import PURGE_BATCH_SIZE, purge_audit_entries

logger = logging.getLogger(__name__)


def purge_expired_audit_entries(
    session_factory: Callable[[], Session],
    *,
    retention_days: int,
    batch_size: int = PURGE_BATCH_SIZE,
) -> int:
    """Delete every entry older than `retention_days` (0 or less keeps them all)."""
    if retention_days <= 0:
        return 0
    removed = 0
    while True:
        session = session_factory()
        try:
            batch = purge_audit_entries(
                session, older_than=timedelta(days=retention_days), batch_size=batch_size
            )
            session.commit()
        finally:
            session.close()
        removed += batch
        if batch < batch_size:
            break
    if removed:
        logger.info("expired audit entries removed", extra={"removed": removed})
    return removed


@dataclass
class AuditRetentionSweep:
    """A runtime sweep purging expired entries at most once per `interval_seconds`."""

    session_factory: Callable[[], Session]
    retention_days: int
    interval_seconds: float = 3600.0
    _last_run: float | None = field(default=None, init=False)

    def __call__(self) -> int:
        now = time.monotonic()
        if self._last_run is not None and now - self._last_run < self.interval_seconds:
            return 0
        self._last_run = now
        return purge_expired_audit_entries(self.session_factory, retention_days=self.retention_days)

"""Storage figures for Prometheus (the monitoring contract, `deploy/monitoring/README.md`).

Labels are the storage type and, for the lag, the storage id: never a bucket, a key or a
credential.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

OBJECTS_LISTED = Counter(
    "labelops_storage_objects_listed_total",
    "Objects import syncs listed (before the regex filter and the already-imported check).",
    ["storage_type"],
)
OBJECTS_SYNCED = Counter(
    "labelops_storage_objects_synced_total",
    "Objects import syncs turned into tasks (each counted once, however many tasks it held).",
    ["storage_type"],
)
TASKS_IMPORTED = Counter(
    "labelops_storage_tasks_imported_total",
    "Tasks import syncs created.",
    ["storage_type"],
)
OBJECTS_EXPORTED = Counter(
    "labelops_storage_objects_exported_total",
    "Task objects written to export storages (on save and by syncs).",
    ["storage_type"],
)
SYNC_ERRORS = Counter(
    "labelops_storage_sync_errors_total",
    "Storage operations that failed (syncs, exports on save, media resolution).",
    ["storage_type", "operation"],
)


class SyncLagCollector(Collector):
    """`labelops_storage_sync_lag_seconds`, read from the database at scrape time: seconds
    since the last completed sync of each synchronizable import storage (since its creation
    if it never completed one), so every replica reports the same truth."""

    def __init__(self, read: Callable[[], list[tuple[int, str, datetime]]]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "labelops_storage_sync_lag_seconds",
            "Seconds since the last completed sync of an import storage.",
            labels=["storage_type", "storage"],
        )
        try:
            rows = self._read()
        except Exception:
            rows = []
        now = time.time()
        for storage_id, kind, since in rows:
            family.add_metric([kind, str(storage_id)], max(0.0, now - since.timestamp()))
        yield family


_lag_collector: SyncLagCollector | None = None


def expose_sync_lag(read: Callable[[], list[tuple[int, str, datetime]]]) -> None:
    """Register the lag gauge once per process (the latest service built reads it)."""
    global _lag_collector
    if _lag_collector is not None:
        REGISTRY.unregister(_lag_collector)
    _lag_collector = SyncLagCollector(read)
    REGISTRY.register(_lag_collector)

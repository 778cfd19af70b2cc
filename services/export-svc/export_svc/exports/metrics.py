"""Export figures for Prometheus: task records written and time taken, by format and path."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from prometheus_client import Counter, Histogram

T = TypeVar("T")

EXPORT_ROWS = Counter(
    "labelops_export_rows_total",
    "Task records written by exports.",
    ["format", "mode"],
)
EXPORT_SECONDS = Histogram(
    "labelops_export_duration_seconds",
    "Time to write one export, from the first task read to the last byte.",
    ["format", "mode"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
EXPORTS = Counter(
    "labelops_exports_total",
    "Exports finished, by outcome (completed or failed).",
    ["format", "mode", "outcome"],
)


def counted(records: Iterable[T], *, format_name: str, mode: str) -> Iterator[T]:
    rows = EXPORT_ROWS.labels(format_name, mode)
    for record in records:
        rows.inc()
        yield record


def measured(chunks: Iterable[bytes], *, format_name: str, mode: str) -> Iterator[bytes]:
    """Times a streamed export and records its outcome once the last chunk is out."""
    started = time.perf_counter()
    outcome = "failed"
    try:
        yield from chunks
        outcome = "completed"
    finally:
        EXPORT_SECONDS.labels(format_name, mode).observe(time.perf_counter() - started)
        EXPORTS.labels(format_name, mode, outcome).inc()

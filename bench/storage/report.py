"""The side-by-side table: per size, LabelOps, Label Studio and how many times faster."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: (label, how to read the figure from a run, True if bigger is better)
METRICS: list[tuple[str, Callable[[dict[str, Any]], Any], bool]] = [
    ("first sync: wall time, s", lambda r: _get(r, "first", "seconds"), False),
    ("first sync: objects/s", lambda r: _get(r, "first", "objects_per_second"), True),
    ("first sync: server peak RSS, MB", lambda r: _get(r, "first", "peak_rss_mb"), False),
    ("  (RSS just before the sync, MB)", lambda r: _get(r, "first", "rss_before_mb"), False),
    ("first sync: server CPU, s", lambda r: _get(r, "first", "server_cpu_seconds"), False),
    ("first sync: tasks created", lambda r: _get(r, "first", "last_sync_count"), True),
    ("re-sync (+new objects): wall time, s", lambda r: _get(r, "resync", "seconds"), False),
    ("re-sync: server CPU, s", lambda r: _get(r, "resync", "server_cpu_seconds"), False),
    ("re-sync: tasks created", lambda r: _get(r, "resync", "last_sync_count"), True),
    ("re-sync: server peak RSS, MB", lambda r: _get(r, "resync", "peak_rss_mb"), False),
    (
        "moto: one plain listing of the bucket, s",
        lambda r: _get(r, "bucket", "listing_floor_seconds"),
        False,
    ),
]


def _get(run: dict[str, Any], *path: str) -> Any:
    node: Any = run
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _ratio(ours: Any, theirs: Any, bigger_is_better: bool) -> str:
    if not isinstance(ours, int | float) or not isinstance(theirs, int | float):
        return ""
    if ours <= 0 or theirs <= 0:
        return ""
    times = ours / theirs if bigger_is_better else theirs / ours
    return f"{times:,.1f}x"


def render(runs: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for size in sorted({run["size"] for run in runs}):
        ours = next((r for r in runs if r["size"] == size and r["target"] == "labelops"), None)
        theirs = next(
            (r for r in runs if r["size"] == size and r["target"] == "label-studio"), None
        )
        lines.append(f"\n{size:,} objects in moto S3")
        header = f"  {'':40} {'LabelOps':>12} {'Label Studio':>14} {'LabelOps better':>16}"
        lines.append(header)
        for label, read, bigger in METRICS:
            mine = read(ours) if ours else None
            other = read(theirs) if theirs else None
            if mine is None and other is None:
                continue
            # Counts are checks, not speeds: no ratio.
            ratio = (
                "" if "tasks created" in label or "moto" in label else _ratio(mine, other, bigger)
            )
            lines.append(f"  {label:40} {_number(mine):>12} {_number(other):>14} {ratio:>16}")
        for run in (ours, theirs):
            if run is None:
                continue
            for workload, error in run.get("errors", {}).items():
                lines.append(f"  FAILED {run['target']} {workload}: {error[:300]}")
    return "\n".join(lines)

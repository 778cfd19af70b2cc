"""The side-by-side table on stdout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.workloads import LIST_QUERIES

#: (label, how to read the figure from a run, True if bigger is better)
Metric = tuple[str, Callable[[dict[str, Any]], Any], bool]


def _get(run: dict[str, Any], *path: str) -> Any:
    node: Any = run
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _metrics() -> list[Metric]:
    metrics: list[Metric] = [
        ("import: wall time, s", lambda r: _get(r, "import", "seconds"), False),
        ("import: tasks/s", lambda r: _get(r, "import", "tasks_per_second"), True),
        ("import: server peak RSS, MB", lambda r: _get(r, "import", "peak_rss_mb"), False),
    ]
    for name in LIST_QUERIES:
        for page in ("page1", "deep"):

            def median(r: dict[str, Any], name: str = name, page: str = page) -> Any:
                return _get(r, "list", name, page, "median_ms")

            def p95(r: dict[str, Any], name: str = name, page: str = page) -> Any:
                return _get(r, "list", name, page, "p95_ms")

            where = "page 1" if page == "page1" else "deep page"
            metrics.append((f"list {name}, {where}: median ms", median, False))
            metrics.append((f"list {name}, {where}: p95 ms", p95, False))

        def build(r: dict[str, Any], name: str = name) -> Any:
            return _get(r, "list", name, "index_build_s")

        metrics.append((f"list {name}: index build s", build, False))

        for figure in ("median", "max"):

            def create(r: dict[str, Any], name: str = name, figure: str = figure) -> Any:
                return _get(r, "list", name, "create_during_build", f"{figure}_ms")

            label = f"list {name}: task create during build, {figure} ms"
            metrics.append((label, create, False))
    for name in LIST_QUERIES:
        for page in ("page1", "deep"):

            def labelling(r: dict[str, Any], name: str = name, page: str = page) -> Any:
                return _get(r, "list-labelling", name, page, "median_ms")

            where = "page 1" if page == "page1" else "deep page"
            metrics.append((f"list-labelling {name}, {where}: median ms", labelling, False))
    metrics += [
        ("annotations/s (8 clients)", lambda r: _get(r, "annotations", "per_second"), True),
        (
            "annotations: server CPU ms each",
            lambda r: _get(r, "annotations", "server_cpu_ms_per_annotation"),
            False,
        ),
        ("next: median ms", lambda r: _get(r, "next", "median_ms"), False),
        ("next: p95 ms", lambda r: _get(r, "next", "p95_ms"), False),
        ("assign a tenth: s", lambda r: _get(r, "assign", "assign_category", "seconds"), False),
        ("assign all: s", lambda r: _get(r, "assign", "assign_all", "seconds"), False),
        (
            "list by assignee, page 1: median ms",
            lambda r: _get(r, "assign", "manager_list_by_assignee", "page1", "median_ms"),
            False,
        ),
        (
            "annotator's own list (assigned_only), page 1: median ms",
            lambda r: _get(r, "assign", "annotator_list", "page1", "median_ms"),
            False,
        ),
        (
            "annotator's own list (assigned_only), deep: median ms",
            lambda r: _get(r, "assign", "annotator_list", "deep", "median_ms"),
            False,
        ),
        (
            "annotator next (assigned_only): median ms",
            lambda r: _get(r, "assign", "annotator_next", "median_ms"),
            False,
        ),
        ("start-up: first start, s", lambda r: _get(r, "startup", "first_start_s"), False),
        ("start-up: restart, s", lambda r: _get(r, "startup", "restart_s"), False),
    ]
    return metrics


def _cell(run: dict[str, Any] | None, read: Callable[[dict[str, Any]], Any], label: str) -> str:
    if run is None:
        return "-"
    value = read(run)
    if value is not None:
        return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
    workload = label.split(":")[0].split(" ")[0].split(",")[0]
    workload = {"annotations/s": "annotations", "start-up": "restart"}.get(workload, workload)
    if workload in run.get("errors", {}):
        return "FAILED"
    if workload in run.get("skipped", {}):
        return "skipped"
    return "-"


def _ratio(ours: Any, theirs: Any, bigger_is_better: bool) -> str:
    if not isinstance(ours, int | float) or not isinstance(theirs, int | float):
        return ""
    if ours <= 0 or theirs <= 0:
        return ""
    ratio = ours / theirs if bigger_is_better else theirs / ours
    return f"{ratio:,.2f}x"


#: Each server on its own default, paired in one block: `make run`'s embedded PostgreSQL and
#: Label Studio's SQLite.
DEFAULTS = {("labelops", "embedded"), ("label-studio", "sqlite")}


def _group(run: dict[str, Any]) -> str:
    return "default" if (run["target"], run["backend"]) in DEFAULTS else run["backend"]


def _title(group: str, size: int) -> str:
    if group == "default":
        return (
            f"{size:,} tasks, each on its default "
            "(LabelOps: embedded PostgreSQL; Label Studio: SQLite)"
        )
    return f"{size:,} tasks on {group}"


def render(runs: list[dict[str, Any]]) -> str:
    """One block per size and database (PostgreSQL, or each server's default: LabelOps's
    embedded PostgreSQL beside Label Studio's SQLite); LabelOps, Label Studio and how many
    times better LabelOps is."""
    groups: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((_group(run), run["size"]), {})[run["target"]] = run
    lines: list[str] = []
    width = max(44, *(len(label) for label, _, _ in _metrics()))
    ordered = sorted(groups.items(), key=lambda item: (item[0][1], item[0][0] != "postgresql"))
    for (backend, size), by_target in ordered:
        ours, theirs = by_target.get("labelops"), by_target.get("label-studio")
        lines.append("")
        lines.append(f"== {_title(backend, size)} ==")
        if theirs and theirs.get("reused_from"):
            lines.append(f"(Label Studio figures from {theirs['reused_from']})")
        header = f"{'metric':<{width}} {'LabelOps':>12} {'Label Studio':>13} {'LO better by':>13}"
        lines.append(header)
        lines.append("-" * len(header))
        for label, read, bigger in _metrics():
            left, right = _cell(ours, read, label), _cell(theirs, read, label)
            if left == "-" and right == "-":
                continue
            ratio = _ratio(read(ours) if ours else None, read(theirs) if theirs else None, bigger)
            lines.append(f"{label:<{width}} {left:>12} {right:>13} {ratio:>13}")
        for target, run in by_target.items():
            for workload, error in run.get("errors", {}).items():
                lines.append(f"  {target} {workload} FAILED: {error}")
            for workload, reason in run.get("skipped", {}).items():
                lines.append(f"  {target} {workload} skipped: {reason}")
            annotations = run.get("annotations") or {}
            if annotations.get("failed"):
                lines.append(
                    f"  {target} annotations: {annotations['failed']} of "
                    f"{annotations['attempted']} failed, e.g. {annotations['errors'][:2]}"
                )
    lines.append("")
    lines.append("list queries (filter + ordering), page_size=100, fields=task_only:")
    for name, query in LIST_QUERIES.items():
        item = query["filters"]["items"][0]
        lines.append(
            f"  {name}: {item['filter']} {item['operator']} {item['value']!r}; "
            f"ordering {query['ordering']}; deep page = total matching // 200"
        )
    return "\n".join(lines)

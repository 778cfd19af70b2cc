"""Copies the alerts and dashboards into the chart, and checks them.

    python scripts/monitoring.py generate   # deploy/monitoring/ → helm/labelops/files/monitoring/
    python scripts/monitoring.py check      # fail if the chart's copies are stale
    python scripts/monitoring.py lint       # dashboards: structure, and every query parsed by promtool

deploy/monitoring/ is the source; the chart reads `files/monitoring/alerts.yaml` (a plain
rules file with top-level `groups:`) and `files/monitoring/dashboards/*.json`. There is no
Grafana here, so a dashboard is checked by its JSON structure, and each panel query is
turned into a recording rule that `promtool check rules` must accept.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "deploy" / "monitoring"
CHART_COPY = ROOT / "helm" / "labelops" / "files" / "monitoring"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

#: Grafana's macros and this dashboard's variables, as promtool-parsable stand-ins.
GRAFANA_SUBSTITUTIONS = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
}
VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
GRID_WIDTH = 24


def sources() -> dict[str, Path]:
    """Chart-relative name → source file."""
    files = {"alerts.yaml": SOURCE / "alerts.yaml"}
    for dashboard in sorted((SOURCE / "dashboards").glob("*.json")):
        files[f"dashboards/{dashboard.name}"] = dashboard
    return files


def stale_copies() -> list[str]:
    expected = sources()
    stale = [
        name
        for name, source in expected.items()
        if not (CHART_COPY / name).exists()
        or (CHART_COPY / name).read_bytes() != source.read_bytes()
    ]
    present = {
        str(path.relative_to(CHART_COPY)) for path in CHART_COPY.rglob("*") if path.is_file()
    }
    stale.extend(sorted(f"{name} (not in deploy/monitoring)" for name in present - set(expected)))
    return stale


def generate() -> None:
    if CHART_COPY.exists():
        shutil.rmtree(CHART_COPY)
    for name, source in sources().items():
        target = CHART_COPY / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def dashboard_problems(dashboard: dict[str, Any]) -> list[str]:
    """What a Grafana import would reject or show broken; empty when the JSON is sound."""
    problems = []
    for key, kind in (("uid", str), ("title", str), ("schemaVersion", int), ("panels", list)):
        if not isinstance(dashboard.get(key), kind) or not dashboard.get(key):
            problems.append(f"dashboard: `{key}` missing or not a {kind.__name__}")
    uid = dashboard.get("uid")
    if isinstance(uid, str) and (len(uid) > 40 or not re.fullmatch(r"[A-Za-z0-9_-]+", uid)):
        problems.append("dashboard: uid must be at most 40 characters of [A-Za-z0-9_-]")
    variables = {v.get("name") for v in (dashboard.get("templating") or {}).get("list", [])}
    ids: set[int] = set()
    occupied: dict[tuple[int, int], int] = {}
    for panel in _all_panels(dashboard):
        panel_id = panel.get("id")
        where = f"panel {panel_id} ({panel.get('title', '?')})"
        if not isinstance(panel_id, int):
            problems.append(f"{where}: id must be an integer")
        elif panel_id in ids:
            problems.append(f"{where}: duplicate id")
        else:
            ids.add(panel_id)
        if not panel.get("title"):
            problems.append(f"{where}: no title")
        problems.extend(_grid_problems(panel, where, occupied))
        if panel.get("type") == "row":
            continue
        datasource = panel.get("datasource") or {}
        if datasource.get("type") != "prometheus" or not datasource.get("uid"):
            problems.append(f"{where}: datasource must be a prometheus datasource with a uid")
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"{where}: no targets")
        ref_ids = [target.get("refId") for target in targets]
        if len(set(ref_ids)) != len(ref_ids) or not all(ref_ids):
            problems.append(f"{where}: target refIds must be present and unique")
        for target in targets:
            expr = target.get("expr", "")
            if not expr.strip():
                problems.append(f"{where}: target {target.get('refId')} has no expr")
            for name in VARIABLE.findall(expr):
                if f"${name}" not in GRAFANA_SUBSTITUTIONS and name not in variables:
                    problems.append(f"{where}: unknown variable ${name}")
        used = VARIABLE.findall(str(datasource.get("uid", "")))
        if used and used[0] not in variables:
            problems.append(f"{where}: datasource variable ${used[0]} is not defined")
    return problems


def _all_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels = []
    for panel in dashboard.get("panels") or []:
        panels.append(panel)
        panels.extend(panel.get("panels") or [])
    return panels


def _grid_problems(
    panel: dict[str, Any], where: str, occupied: dict[tuple[int, int], int]
) -> list[str]:
    grid = panel.get("gridPos") or {}
    if not all(isinstance(grid.get(key), int) for key in ("h", "w", "x", "y")):
        return [f"{where}: gridPos needs integer h, w, x, y"]
    if grid["w"] < 1 or grid["h"] < 1 or grid["x"] < 0 or grid["x"] + grid["w"] > GRID_WIDTH:
        return [f"{where}: gridPos outside the {GRID_WIDTH}-column grid"]
    problems = []
    for x in range(grid["x"], grid["x"] + grid["w"]):
        for y in range(grid["y"], grid["y"] + grid["h"]):
            other = occupied.setdefault((x, y), panel["id"])
            if other != panel["id"]:
                problems.append(f"{where}: overlaps panel {other}")
                return problems
    return problems


def dashboard_queries(dashboard: dict[str, Any]) -> dict[str, str]:
    """`panel<id>_<refId>` → the query with Grafana's macros and variables filled in."""
    queries = {}
    for panel in _all_panels(dashboard):
        for target in panel.get("targets") or []:
            expr = str(target.get("expr", ""))
            for macro, value in GRAFANA_SUBSTITUTIONS.items():
                expr = expr.replace(macro, value)
            # A multi-value variable is used inside =~, so any regex stands in for it.
            expr = VARIABLE.sub(".*", expr)
            queries[f"panel{panel.get('id')}_{target.get('refId')}"] = expr
    return queries


def queries_as_rules(queries: dict[str, str]) -> str:
    """A rules file recording every query, for `promtool check rules` to parse."""
    rules = [
        {"record": f"labelops_dashboard_check:{name}", "expr": expr}
        for name, expr in queries.items()
    ]
    return json.dumps({"groups": [{"name": "dashboard-queries", "rules": rules}]}, indent=2)


def promtool_check_rules(rules_text: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "dashboard-queries.yaml"
        path.write_text(rules_text)
        # promtool from Debian, on a file this function wrote.
        return subprocess.run(  # noqa: S603
            [PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, check=False
        )


def lint() -> list[str]:
    problems: list[str] = []
    for dashboard_path in sorted((SOURCE / "dashboards").glob("*.json")):
        dashboard = json.loads(dashboard_path.read_text())
        problems.extend(f"{dashboard_path.name}: {p}" for p in dashboard_problems(dashboard))
        checked = promtool_check_rules(queries_as_rules(dashboard_queries(dashboard)))
        if checked.returncode != 0:
            problems.append(f"{dashboard_path.name}: promtool: {checked.stdout}{checked.stderr}")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "check"
    if command == "generate":
        generate()
        return 0
    if command == "check":
        stale = stale_copies()
        if stale:
            print("stale chart monitoring files (run `python scripts/monitoring.py generate`):")
            print("\n".join(f"  {name}" for name in stale))
            return 1
        return 0
    if command == "lint":
        problems = lint()
        print("\n".join(problems) or "dashboards ok")
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

"""The alert rules and dashboards, checked with Debian's promtool (no Grafana exists here)."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from ..edge.loader import REPO, monitoring_module
from .conftest import PROMTOOL

ALERTS = REPO / "deploy" / "monitoring" / "alerts.yaml"
ALERT_TESTS = REPO / "deploy" / "monitoring" / "alerts.test.yaml"
DASHBOARDS = sorted((REPO / "deploy" / "monitoring" / "dashboards").glob("*.json"))
CONTRACT = REPO / "deploy" / "monitoring" / "README.md"


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL.exists(), "scripts/testinfra.sh installs prometheus (promtool)"
    return subprocess.run([str(PROMTOOL), *args], capture_output=True, text=True, cwd=cwd)


def alert_names() -> set[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return {
        rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule
    }


def test_promtool_check_rules() -> None:
    result = promtool("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_names())} rules found" in result.stdout


def test_promtool_test_rules() -> None:
    result = promtool("test", "rules", ALERT_TESTS.name, cwd=ALERT_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    tests = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in tests:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = alert_names()
    assert names - firing == set(), "alerts never tested firing"
    assert names - quiet == set(), "alerts never tested quiet"


def test_a_broken_unit_test_fails(tmp_path: Path) -> None:
    """promtool really evaluates the expectations: a wrong one is reported."""
    tests = yaml.safe_load(ALERT_TESTS.read_text())
    tests["rule_files"] = [str(ALERTS)]
    first = tests["tests"][0]["alert_rule_test"][-1]
    first["exp_alerts"][0]["exp_labels"]["service"] = "project-svc"
    (tmp_path / "broken.test.yaml").write_text(yaml.safe_dump(tests))
    result = promtool("test", "rules", "broken.test.yaml", cwd=tmp_path)
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr


def metric_names(promql: str) -> set[str]:
    """The labelops_* metrics a query reads, histogram series folded into their family."""
    return {
        re.sub(r"_(bucket|sum|count)$", "", name)
        for name in re.findall(r"labelops_[a-z_]+(?![a-z_]*:)", promql)
    }


def test_the_metrics_contract_lists_every_metric_the_alerts_and_dashboards_use() -> None:
    contract = CONTRACT.read_text()
    used: set[str] = set()
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        for rule in group["rules"]:
            used |= metric_names(rule["expr"])
    monitoring = monitoring_module()
    for path in DASHBOARDS:
        for query in monitoring.dashboard_queries(json.loads(path.read_text())).values():
            used |= metric_names(query)
    assert "labelops_queue_depth" in used
    missing = sorted(name for name in used if f"`{name}`" not in contract)
    assert missing == []


def test_the_dashboards_are_sound() -> None:
    monitoring = monitoring_module()
    assert DASHBOARDS, "no dashboard in deploy/monitoring/dashboards"
    assert monitoring.lint() == []
    titles: set[str] = set()
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        titles.update(panel["title"] for panel in dashboard["panels"] if panel["type"] == "row")
    # the sections the dashboard promises
    for section in ("HTTP", "gRPC", "Queues", "Domain", "ML backends", "Storage sync"):
        assert any(section in title for title in titles), section


def test_the_dashboard_check_catches_mistakes() -> None:
    monitoring = monitoring_module()
    dashboard: dict[str, Any] = json.loads(DASHBOARDS[0].read_text())
    broken = copy.deepcopy(dashboard)
    panels = [p for p in broken["panels"] if p["type"] != "row"]
    panels[1]["id"] = panels[0]["id"]
    panels[2]["targets"] = []
    panels[3]["gridPos"]["w"] = 30
    panels[4]["datasource"] = {}
    problems = "\n".join(monitoring.dashboard_problems(broken))
    assert "duplicate id" in problems
    assert "no targets" in problems
    assert "gridPos outside" in problems
    assert "datasource must be" in problems

    bad_query = copy.deepcopy(dashboard)
    next(p for p in bad_query["panels"] if p["type"] != "row")["targets"][0]["expr"] = (
        "sum by (service (rate(labelops_http_requests_total[5m]))"
    )
    checked = monitoring.promtool_check_rules(
        monitoring.queries_as_rules(monitoring.dashboard_queries(bad_query))
    )
    assert checked.returncode != 0


def test_the_charts_copies_are_current() -> None:
    monitoring = monitoring_module()
    assert monitoring.stale_copies() == []
    copied = yaml.safe_load((REPO / "helm/labelops/files/monitoring/alerts.yaml").read_text())
    assert list(copied) == ["groups"]

"""The chart renders and lints with a real Helm, and wrong values fail at install time."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

VALUES_FILES = ("values.yaml", "values-production.yaml", "values-minimal.yaml")
CHART_DIR = Path(__file__).resolve().parents[2] / "helm" / "labelops"


def test_helm_is_the_pinned_real_binary(chart_tool: ModuleType) -> None:
    result = chart_tool.helm("version", "--template", "{{ .Version }}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "v3.18.0"


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_renders(rendered_files: dict[str, Any], values_file: str) -> None:
    kinds = Counter(doc["kind"] for doc in rendered_files[values_file].documents)
    assert kinds["Deployment"] >= 6, kinds
    assert kinds["Service"] >= 5, kinds
    assert kinds["Job"] == 1, kinds


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_helm_lint_strict_passes(chart_tool: ModuleType, values_file: str) -> None:
    result = chart_tool.lint([CHART_DIR / values_file])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("services.task-svc.replicaCount=two", "replicaCount: Invalid type. Expected: integer"),
        ("unknownTopLevelKey=1", "Additional property unknownTopLevelKey is not allowed"),
        ("workers.queues.imports.autoscaling.maxReplica=3", "Additional property maxReplica"),
        ("workers.queues.nosuchqueue.enabled=true", "Additional property nosuchqueue"),
        ("environment=staging", "environment"),
        ("serviceDefaults.autoscaling.minReplicas=0", "minReplicas"),
        ("edge.cors.allowOrigins[0]=*", "allowOrigins.0: Does not match pattern"),
        ("image.pullPolicy=Sometimes", "pullPolicy"),
        ("ports.http=70000", "ports.http"),
    ],
)
def test_wrong_value_fails_schema_validation(
    chart_tool: ModuleType, override: str, message: str
) -> None:
    result = chart_tool.render([], [override])
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["postgresql.enabled=false"], "externalDatabase.host"),
        (["redis.enabled=false"], "externalBroker.url"),
        (["artifactStorage.type=s3"], "artifactStorage.bucket"),
    ],
)
def test_missing_external_settings_fail_with_the_field_named(
    chart_tool: ModuleType, overrides: list[str], message: str
) -> None:
    result = chart_tool.render([], overrides)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_lint_fails_on_a_schema_violation(chart_tool: ModuleType) -> None:
    result = chart_tool.lint([], ["services.project-svc.replicaCount=-1"])
    assert result.returncode != 0
    assert "replicaCount" in result.stdout + result.stderr


def test_long_release_names_keep_object_names_valid_and_distinct(chart_tool: ModuleType) -> None:
    release = "a-very-long-release-name-for-labelops-in-team-x-prod"  # 52 characters
    result = chart_tool.render(
        [CHART_DIR / "values-production.yaml"],
        ["gateway.enabled=true", "workerDefaults.keda.enabled=true"],
        release=release,
    )
    assert result.returncode == 0, result.stderr
    documents = chart_tool.load_documents(result.stdout)
    names = [(doc["kind"], doc["metadata"]["name"]) for doc in documents]
    assert len(names) == len(set(names)), Counter(names).most_common(3)
    for _, name in names:
        assert len(name) <= 63 and not name.endswith("-"), name
    assert chart_tool.validate_documents(documents) == []


def test_helm_lint_strict_passes_with_every_option(chart_tool: ModuleType) -> None:
    options = [
        "gateway.enabled=true",
        "workerDefaults.keda.enabled=true",
        "monitoring.serviceMonitor.enabled=true",
        "monitoring.prometheusRule.enabled=true",
        "monitoring.dashboards.enabled=true",
    ]
    result = chart_tool.lint([CHART_DIR / "values-production.yaml"], options)
    assert result.returncode == 0, result.stdout + result.stderr

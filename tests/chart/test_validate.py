"""Every rendered object validates strictly: Kubernetes 1.31 schemas, vendored CRD schemas, yamllint.

kubernetes-validate alone only warns on removed APIs and skips custom resources; the
wrapper in scripts/chart.py (`validate_object`) makes both fail, and validates
ServiceMonitor, PodMonitor, PrometheusRule, ScaledObject, TriggerAuthentication and
HTTPRoute against the schemas in tests/chart/crd-schemas (see its README.md).
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

VALUES_FILES = ("values.yaml", "values-production.yaml", "values-minimal.yaml")
YAMLLINT_CONFIG = Path(__file__).with_name("yamllint.yaml")


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_every_object_validates_strictly(
    chart_tool: ModuleType, rendered_files: dict[str, Any], values_file: str
) -> None:
    errors = chart_tool.validate_documents(rendered_files[values_file].documents)
    assert errors == []


def test_every_optional_object_validates_strictly(chart_tool: ModuleType, features_on: Any) -> None:
    kinds = {doc["kind"] for doc in features_on.documents}
    for crd_kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule", "ScaledObject", "HTTPRoute"):
        assert crd_kind in kinds
    assert chart_tool.validate_documents(features_on.documents) == []


def _first(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(doc for doc in documents if doc["kind"] == kind))


@pytest.mark.parametrize(
    "kind",
    [
        "Deployment",
        "ServiceMonitor",
        "PodMonitor",
        "PrometheusRule",
        "ScaledObject",
        "TriggerAuthentication",
        "HTTPRoute",
    ],
)
def test_validation_refuses_unknown_fields(
    chart_tool: ModuleType, features_on: Any, kind: str
) -> None:
    document = _first(features_on.documents, kind)
    document["spec"]["notARealField"] = True
    errors = chart_tool.validate_object(document)
    assert errors and "notARealField" in errors[0]


def test_validation_refuses_wrong_types_in_crds(chart_tool: ModuleType, features_on: Any) -> None:
    monitor = _first(features_on.documents, "ServiceMonitor")
    monitor["spec"]["endpoints"][0]["port"] = 8080
    route = _first(features_on.documents, "HTTPRoute")
    route["spec"]["rules"][0]["matches"][0]["path"]["type"] = "Glob"
    assert chart_tool.validate_object(monitor)
    assert chart_tool.validate_object(route)


@pytest.mark.parametrize(
    ("kind", "api_version"),
    [
        ("HorizontalPodAutoscaler", "autoscaling/v2beta2"),
        ("PodDisruptionBudget", "policy/v1beta1"),
        ("Ingress", "networking.k8s.io/v1beta1"),
        ("Deployment", "extensions/v1beta1"),
        ("HTTPRoute", "gateway.networking.k8s.io/v1beta1"),
    ],
)
def test_validation_refuses_removed_and_deprecated_apis(
    chart_tool: ModuleType,
    features_on: Any,
    rendered_files: dict[str, Any],
    kind: str,
    api_version: str,
) -> None:
    documents = rendered_files["values-production.yaml"].documents + features_on.documents
    document = _first(documents, kind)
    assert chart_tool.validate_object(document) == []
    document["apiVersion"] = api_version
    assert chart_tool.validate_object(document)


def test_validation_refuses_a_custom_resource_without_schema(chart_tool: ModuleType) -> None:
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "x"},
        "spec": {},
    }
    assert chart_tool.validate_object(certificate)


def _yamllint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "yamllint",
            "-s",
            "-f",
            "parsable",
            "-c",
            str(YAMLLINT_CONFIG),
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_yamllint_passes_on_rendered_output(
    rendered_files: dict[str, Any], values_file: str, tmp_path: Path
) -> None:
    manifest = tmp_path / f"rendered-{values_file}"
    manifest.write_text(rendered_files[values_file].text)
    result = _yamllint(manifest)
    assert result.returncode == 0, result.stdout


def test_yamllint_passes_on_the_optional_objects(features_on: Any, tmp_path: Path) -> None:
    manifest = tmp_path / "rendered-features-on.yaml"
    manifest.write_text(features_on.text)
    result = _yamllint(manifest)
    assert result.returncode == 0, result.stdout


def test_yamllint_catches_a_duplicate_key(rendered_files: dict[str, Any], tmp_path: Path) -> None:
    text = rendered_files["values.yaml"].text.replace(
        "  type: ClusterIP\n", "  type: ClusterIP\n  type: NodePort\n", 1
    )
    manifest = tmp_path / "duplicate.yaml"
    manifest.write_text(text)
    result = _yamllint(manifest)
    assert result.returncode != 0
    assert "key-duplicates" in result.stdout

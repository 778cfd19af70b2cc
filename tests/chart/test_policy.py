"""Policy lint of the rendered manifests: checkov, plus the project's own pod-security rules.

checkov runs in its own pinned environment (`uvx --from checkov==3.3.30`): its dependency
set (boto3, networkx, ...) has no place in the workspace lock. One run covers every values
file; tests/chart/checkov-skips.yaml lists the skipped checks with a justification each.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

CHECKOV_VERSION = "3.3.30"
VALUES_FILES = ("values.yaml", "values-production.yaml", "values-minimal.yaml")
SKIPS_FILE = Path(__file__).with_name("checkov-skips.yaml")
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet")


def _skips() -> dict[str, str]:
    skips: dict[str, str] = yaml.safe_load(SKIPS_FILE.read_text())
    return skips


@pytest.fixture(scope="session")
def checkov_results(
    rendered_files: dict[str, Any], features_on: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    uv = shutil.which("uv")
    assert uv, "uv is needed to run checkov in its own environment"
    folder = tmp_path_factory.mktemp("checkov")
    for name, rendered in rendered_files.items():
        (folder / name).write_text(rendered.text)
    (folder / "features-on.yaml").write_text(features_on.text)
    result = subprocess.run(
        [
            uv,
            "tool",
            "run",
            "--from",
            f"checkov=={CHECKOV_VERSION}",
            "checkov",
            "--directory",
            str(folder),
            "--framework",
            "kubernetes",
            "--skip-download",
            "--skip-check",
            ",".join(_skips()),
            "--output",
            "json",
            "--compact",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    reports = json.loads(result.stdout)
    report = reports[0] if isinstance(reports, list) else reports
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    by_file: dict[str, dict[str, Any]] = {
        name: {"passed": 0, "failed": []} for name in [*rendered_files, "features-on.yaml"]
    }
    for check in report["results"].get("passed_checks", []):
        by_file[Path(check["file_path"]).name]["passed"] += 1
    for check in report["results"].get("failed_checks", []):
        by_file[Path(check["file_path"]).name]["failed"].append(
            f"{check['check_id']} {check['check_name']}: {check['resource']}"
        )
    return by_file


def test_every_skip_is_justified() -> None:
    skips = _skips()
    assert skips
    for check_id, reason in skips.items():
        assert check_id.startswith("CKV_K8S_")
        assert len(reason.split()) >= 12, f"{check_id} needs a real justification"


@pytest.mark.parametrize("values_file", [*VALUES_FILES, "features-on.yaml"])
def test_checkov_passes(checkov_results: dict[str, dict[str, Any]], values_file: str) -> None:
    outcome = checkov_results[values_file]
    assert outcome["passed"] > 100
    assert outcome["failed"] == []


def _pod_specs(documents: list[dict[str, Any]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for doc in documents:
        if doc["kind"] not in WORKLOADS:
            continue
        template = doc["spec"]["template"]
        if doc["kind"] == "CronJob":
            template = doc["spec"]["jobTemplate"]["spec"]["template"]
        yield doc["kind"], doc["metadata"]["name"], template["spec"]


@pytest.mark.parametrize("values_file", [*VALUES_FILES, "features-on"])
def test_pods_are_locked_down(
    rendered_files: dict[str, Any], features_on: Any, values_file: str
) -> None:
    rendered = features_on if values_file == "features-on" else rendered_files[values_file]
    pods = list(_pod_specs(rendered.documents))
    assert pods
    for kind, name, pod in pods:
        where = f"{kind}/{name}"
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        assert pod.get("hostNetwork") is not True and pod.get("hostPID") is not True, where
        assert pod.get("automountServiceAccountToken") is False, where
        mounted = {volume["name"] for volume in pod.get("volumes", [])}
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            where = f"{kind}/{name}/{container['name']}"
            security = container["securityContext"]
            assert security.get("privileged") is not True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["runAsNonRoot"] is True, where
            assert security["runAsUser"] > 0, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert not security["capabilities"].get("add"), where
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), where
            mounts = {
                mount["mountPath"]: mount["name"] for mount in container.get("volumeMounts", [])
            }
            assert "/tmp" in mounts, f"{where}: a read-only root needs a writable /tmp"
            assert set(mounts.values()) <= mounted | {"data"}, where
            if kind in LONG_RUNNING:
                assert "livenessProbe" in container, where
                assert "readinessProbe" in container, where

"""A real Prometheus (Debian's) scraping every process of the one-process-per-service suite."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from labelops_runtime.suite import free_loopback_port
from labelops_testing import stack as stacks
from labelops_testing.processes import stop_process, wait_until_answering

from ..edge.loader import REPO

PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")


@dataclass
class Prometheus:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def query(self, promql: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        body = response.json()
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def wait_for(self, promql: str, accept: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Query until `accept(result)` holds (scrapes are every second), else the last result."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(promql)
            if accept(result) or time.monotonic() > deadline:
                return result
            time.sleep(0.5)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    running = stacks.acquire_stack(tmp_path_factory.mktemp("stack"))
    try:
        yield running
    finally:
        stacks.release_stack()


def scrape_config(stack: Any, rules: Path) -> dict[str, Any]:
    """One scrape job per process, named as the chart's monitors name them."""
    jobs = [
        {
            "job_name": f"labelops-{name}",
            "static_configs": [{"targets": [process.url.removeprefix("http://")]}],
        }
        for name, process in stack.services.items()
    ]
    jobs.append(
        {
            "job_name": "labelops-worker",
            "static_configs": [{"targets": [stack.worker.url.removeprefix("http://")]}],
        }
    )
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": jobs,
    }


@pytest.fixture(scope="session")
def prometheus(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    if not PROMETHEUS.exists():
        raise RuntimeError(f"{PROMETHEUS} is missing; scripts/testinfra.sh installs prometheus")
    directory = tmp_path_factory.mktemp("prometheus")
    config = directory / "prometheus.yml"
    # JSON is YAML: no YAML writer needed.
    config.write_text(json.dumps(scrape_config(stack, REPO / "deploy/monitoring/alerts.yaml")))
    port = free_loopback_port()
    log_path = directory / "prometheus.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = Prometheus(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        wait_until_answering(
            f"{running.url}/-/ready",
            process,
            log_path=log_path,
            deadline=time.monotonic() + 90,
        )
    except RuntimeError:
        process.kill()
        raise
    try:
        yield running
    finally:
        stop_process(process, timeout=15)

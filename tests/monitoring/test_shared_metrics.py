"""The metrics the alerts need that the shared code measures: queue depth and age from the
broker, database connection errors, and the worker's `--metrics-port` guard."""

from __future__ import annotations

import time
from typing import Any

import pytest
from labelops_common.observability.database import observe_database_errors
from labelops_common.queue import QueueDepthCollector, create_celery_app
from labelops_runtime import cli
from labelops_runtime.suite import free_loopback_port
from labelops_testing.databases import scratch_database_url, scratch_redis_url
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError


def samples(collector: QueueDepthCollector) -> dict[tuple[str, str], float]:
    found = {}
    for family in collector.collect():
        for sample in family.samples:
            found[(sample.name, sample.labels.get("queue", ""))] = sample.value
    return found


@pytest.fixture()
def redis_broker() -> Any:
    with scratch_redis_url() as url:
        yield url


def test_queue_depth_and_oldest_message_age_on_redis(redis_broker: str) -> None:
    app = create_celery_app(name="depth-check", broker_url=redis_broker, queues=["backlog"])
    for index in range(3):
        app.send_task("tests.never_run", args=[index], queue="backlog")
    time.sleep(1.2)
    collector = QueueDepthCollector(broker_url=redis_broker, queues=["backlog", "never-used"])
    found = samples(collector)
    assert found[("labelops_queue_depth", "backlog")] == 3
    assert found[("labelops_queue_depth", "never-used")] == 0
    age = found[("labelops_queue_oldest_message_age_seconds", "backlog")]
    assert 1.0 <= age < 60
    assert found[("labelops_queue_oldest_message_age_seconds", "never-used")] == 0
    assert found[("labelops_broker_up", "")] == 1


def test_an_unreachable_broker_reports_down_not_an_error() -> None:
    url = f"redis://127.0.0.1:{free_loopback_port()}/0"
    found = samples(QueueDepthCollector(broker_url=url, queues=["imports"], timeout_seconds=0.5))
    assert found[("labelops_broker_up", "")] == 0
    assert ("labelops_queue_depth", "imports") not in found


def value(name: str, service: str) -> float:
    return REGISTRY.get_sample_value(name, {"service": service}) or 0.0


def test_database_connection_errors_are_counted_apart_from_query_errors() -> None:
    closed = free_loopback_port()
    unreachable = create_engine(f"postgresql+psycopg2://labelops@127.0.0.1:{closed}/labelops")
    observe_database_errors(unreachable, service="metrics-check-pg")
    before = value("labelops_db_connection_errors_total", "metrics-check-pg")
    with pytest.raises(DBAPIError):
        unreachable.connect()
    assert value("labelops_db_connection_errors_total", "metrics-check-pg") == before + 1

    with scratch_database_url("metrics-check") as url:
        reachable = create_engine(url)
        observe_database_errors(reachable, service="metrics-check-query")
        try:
            with reachable.connect() as connection, pytest.raises(DBAPIError):
                connection.execute(text("SELECT * FROM no_such_table"))
        finally:
            reachable.dispose()
    assert value("labelops_db_query_errors_total", "metrics-check-query") == 1
    assert value("labelops_db_connection_errors_total", "metrics-check-query") == 0


def test_worker_metrics_refuse_the_prefork_pool() -> None:
    with pytest.raises(SystemExit, match="--pool threads or solo"):
        cli.main(["worker", "--queues", "imports", "--pool", "prefork", "--metrics-port", "9100"])

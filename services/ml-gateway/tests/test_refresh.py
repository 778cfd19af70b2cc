"""The schedule keeps each backend's state and model version fresh (never a request), and
ml-gateway's `/metrics` carries the monitoring contract's ML figures."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from labelops_testing.ml_backend import Behaviour, ProtocolBackend
from ml_gateway.backends.monitor import BackendMonitor, refresh_due
from ml_gateway.settings import Settings
from prometheus_client import REGISTRY
from pydantic import SecretStr

from .conftest import World


def _round(world: World) -> int:
    state = world.stack.ml_runtime.http_app.state
    # interval 0: every backend is due now (those of earlier tests too: no limit).
    return refresh_due(
        world.stack.ml_runtime.database,
        state.protocol_client,
        state.project_directory.get,
        interval_seconds=0,
        limit=100_000,
    )


def test_a_round_refreshes_state_and_model_version(world: World, backend: ProtocolBackend) -> None:
    connected = world.connect(backend)
    up = {"backend": str(connected["id"])}
    assert REGISTRY.get_sample_value("labelops_ml_backend_up", up) == 1

    backend.model_version = "keyword-7"
    assert _round(world) >= 1
    row = world.backend_row(connected["id"])
    assert (row.state, row.model_version) == ("CO", "keyword-7")

    backend.faulty_paths, backend.behaviour = ("/health",), Behaviour.ERROR_500
    _round(world)
    row = world.backend_row(connected["id"])
    assert row.state == "DI" and "health check failed" in (row.error_message or "")
    assert REGISTRY.get_sample_value("labelops_ml_backend_up", up) == 0
    listed = world.stack.ml.get(
        f"/api/ml?project={world.project}", headers=world.cast.owner.headers
    )
    assert listed.json()[0]["readable_state"] == "Disconnected"

    backend.faulty_paths = ("/setup",)
    _round(world)
    assert world.backend_row(connected["id"]).state == "ER"

    backend.behaviour = Behaviour.NORMAL
    _round(world)
    row = world.backend_row(connected["id"])
    assert (row.state, row.error_message) == ("CO", None)
    assert REGISTRY.get_sample_value("labelops_ml_backend_up", up) == 1


def test_a_backend_checked_recently_is_not_called_again(
    world: World, backend: ProtocolBackend
) -> None:
    world.connect(backend)
    state = world.stack.ml_runtime.http_app.state
    calls = len(backend.calls("/health"))
    refresh_due(
        world.stack.ml_runtime.database,
        state.protocol_client,
        state.project_directory.get,
        interval_seconds=3600,
    )
    assert len(backend.calls("/health")) == calls


def test_the_monitor_thread_runs_rounds(world: World, backend: ProtocolBackend) -> None:
    connected = world.connect(backend)
    backend.model_version = "keyword-9"
    state = world.stack.ml_runtime.http_app.state
    monitor = BackendMonitor(
        world.stack.ml_runtime.database,
        state.protocol_client,
        state.project_directory.get,
        interval_seconds=0.1,
    )
    monitor.start()
    try:
        deadline = time.monotonic() + 10
        while world.backend_row(connected["id"]).model_version != "keyword-9":
            assert time.monotonic() < deadline, "the monitor did not refresh the backend"
            time.sleep(0.05)
    finally:
        monitor.stop()
        monitor.join(5)


def test_metrics_endpoint_names_the_ml_figures(world: World, backend: ProtocolBackend) -> None:
    world.tasks("good")
    world.connect(backend)
    world.wait_job(world.retrieve()["job"])
    # As a scraper on this machine (/metrics answers private networks only).
    scraper = TestClient(world.stack.ml_runtime.http_app, client=("127.0.0.1", 50000))
    text = scraper.get("/metrics").text
    for name in (
        "labelops_ml_backend_up",
        "labelops_ml_predict_duration_seconds_bucket",
        "labelops_ml_requests_total",
        "labelops_ml_request_duration_seconds_bucket",
        "labelops_ml_circuit_state",
        "labelops_ml_prediction_job_tasks_total",
        "labelops_ml_prediction_jobs_running",
    ):
        assert name in text, name
    assert 'call="predict",outcome="ok"' in text
    # Labels carry backend ids, never URLs.
    assert backend.url not in text


def test_label_studio_timeout_names_are_honoured(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ML_TIMEOUT_PREDICT", "250")
    monkeypatch.setenv("LABELOPS_ML_GATEWAY_ML_TIMEOUT_SETUP", "7")
    monkeypatch.setenv("LABELOPS_ML_GATEWAY_BACKEND_ACCESS_TOKEN", "backend-token")
    settings = Settings()
    assert (settings.ml_timeout_predict, settings.ml_timeout_setup) == (250, 7)
    assert (settings.ml_timeout_health, settings.ml_connection_timeout) == (1, 1)
    assert settings.ml_timeout_train == 30 and settings.webhook_timeout == 1
    assert settings.backend_access_token == SecretStr("backend-token")
    assert "backend-token" not in repr(settings)

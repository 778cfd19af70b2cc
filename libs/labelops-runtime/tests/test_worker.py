"""`labelops worker --queues X` builds only the services that own X, known from their
declarations (`<package>.jobs.JOBS`) before anything is built."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from celery import _state as celery_state
from labelops_runtime import cli
from labelops_runtime import suite as suite_module


class Started:
    """What the worker command started instead of blocking in Celery's worker loop."""

    def __init__(self) -> None:
        self.built: list[str] = []
        self.argv: list[str] = []
        self.app: Any = None
        self.sweeps: list[Any] = []
        self.runtimes: list[Any] = []


@pytest.fixture()
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Started]:
    started = Started()
    monkeypatch.setenv("LABELOPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELOPS_BROKER_URL", "memory://")
    real_build = suite_module.build_runtime

    def build_runtime(service: str, common: Any) -> Any:
        started.built.append(service)
        runtime = real_build(service, common)
        started.runtimes.append(runtime)
        return runtime

    def worker_main(app: Celery, argv: list[str]) -> None:
        started.app, started.argv = app, argv

    class Sweeper:
        def stop(self) -> None:
            pass

    def start_job_sweeper(common: Any, runtimes: Any) -> Sweeper:
        started.sweeps = [sweep for runtime in runtimes for sweep in runtime.stale_job_sweeps()]
        return Sweeper()

    monkeypatch.setattr(suite_module, "build_runtime", build_runtime)
    monkeypatch.setattr(suite_module, "start_embedded_postgres", lambda common, databases: None)
    monkeypatch.setattr(suite_module, "start_job_sweeper", start_job_sweeper)
    monkeypatch.setattr(suite_module, "configure_process", lambda common, service: None)
    monkeypatch.setattr(cli, "freeze_startup_objects", lambda: None)
    monkeypatch.setattr(Celery, "worker_main", worker_main)
    previous = celery_state.default_app
    yield started
    celery_state.set_default_app(previous)
    # What the command built leaves the process's registries (its database is gone).
    for runtime in started.runtimes:
        runtime.close()


def test_an_exports_worker_builds_export_svc_only(started: Started) -> None:
    assert cli.main(["worker", "--queues", "exports"]) == 0
    assert started.built == ["export-svc"]
    assert "--queues=exports" in started.argv
    assert {"export-svc.write_snapshot", "export-svc.convert_snapshot"} <= set(started.app.tasks)
    # Its sweeps are its handles' job models: one per job table, none hand-written.
    assert sorted(sweep.handle.name for sweep in started.sweeps) == [
        "export-svc.convert_snapshot",
        "export-svc.write_snapshot",
    ]


def test_an_imports_and_events_worker_builds_the_events_consumers(started: Started) -> None:
    assert cli.main(["worker", "--queues", "imports,events"]) == 0
    # Every service that consumes events is built where `events` is consumed, so its
    # handlers run: project-svc (webhooks), storage-sync (export on save), ml-gateway.
    assert started.built == ["project-svc", "task-svc", "storage-sync", "ml-gateway"]
    assert {"task-svc.import_tasks", "task-svc.build_data_field_index"} <= set(started.app.tasks)
    assert "labelops.events.deliver" in started.app.tasks
    sweeps = {sweep.handle.name for sweep in started.sweeps}
    assert {"task-svc.import_tasks", "project-svc.deliver_webhook"} <= sweeps
    # The index builds keep their own state (see fieldindexes.jobs): no sweep for them.
    assert "task-svc.build_data_field_index" not in sweeps


def test_a_queue_no_service_owns_is_refused_before_anything_is_built(started: Started) -> None:
    with pytest.raises(SystemExit, match="nosuchqueue"):
        cli.main(["worker", "--queues", "exports,nosuchqueue"])
    assert started.built == []


def test_ownership_is_read_from_the_declarations() -> None:
    assert suite_module.services_owning(["webhooks", "ml"]) == ["project-svc", "ml-gateway"]
    for service in suite_module.SERVICE_PACKAGES:
        for module in suite_module.declared_jobs(service).job_modules:
            assert module.startswith(suite_module.SERVICE_PACKAGES[service] + ".")

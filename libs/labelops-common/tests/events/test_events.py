"""Domain events: sent only after commit, delivered to every registered handler by a real
embedded Celery worker on the PostgreSQL transport, failed handlers retried on their own."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from labelops_common import events
from labelops_common.db import Database
from labelops_common.events import (
    ANNOTATION_CREATED,
    ANNOTATION_UPDATED,
    TASKS_CREATED,
    Event,
    event_handler,
    publish_after_commit,
    unregister_handler,
)
from labelops_common.settings import get_common_settings
from labelops_testing.databases import scratch_database_url
from prometheus_client import REGISTRY
from sqlalchemy import text


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Event]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.events) >= count:
                    return list(self.events)
            time.sleep(0.05)
        with self._lock:
            return list(self.events)


@pytest.fixture()
def database() -> Iterator[Database]:
    with scratch_database_url("events") as url:
        database = Database.from_url(url)
        try:
            yield database
        finally:
            database.engine.dispose()


@pytest.fixture()
def register() -> Iterator[Callable[..., Any]]:
    registered: list[Any] = []

    def add(handler: Any, *names: str) -> Any:
        event_handler(*names)(handler)
        registered.append(handler)
        return handler

    yield add
    for handler in registered:
        unregister_handler(handler)


class _RecordingApp:
    """Stands in for the Celery app: its two event tasks record `(task name, args)` as sent
    (on the events queue), then call `on_send`."""

    def __init__(self, on_send: Callable[[], None] = lambda: None) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.tasks = {
            name: _RecordingTask(self, name)
            for name in (events.DELIVER_TASK, events.DELIVER_BATCH_TASK)
        }
        self.on_send = on_send


@dataclass
class _RecordingTask:
    app: _RecordingApp
    name: str

    def apply_async(self, *, args: Any, queue: str) -> None:
        assert queue == events.EVENTS_QUEUE
        self.app.sent.append((self.name, args))
        self.app.on_send()


def _publish(database: Database, name: str, *, commit: bool, **payload: Any) -> None:
    with database.session() as session:
        session.execute(text("SELECT 1"))
        publish_after_commit(session, name, project_id=7, payload=payload)
        if commit:
            session.commit()
        else:
            session.rollback()


def test_rolled_back_events_are_never_sent_and_committed_ones_reach_handlers(
    database, worker, register
) -> None:
    recorder = Recorder()

    def record(event: Event) -> None:
        recorder(event)

    register(record, ANNOTATION_CREATED)
    _publish(database, ANNOTATION_CREATED, commit=False, annotation_id=1)
    _publish(database, ANNOTATION_CREATED, commit=True, annotation_id=2, task_id=3)
    got = recorder.wait_for(1)
    time.sleep(0.5)  # a rolled-back message would have arrived by now too
    assert len(recorder.events) == 1
    (event,) = got
    assert event.name == ANNOTATION_CREATED
    assert event.project_id == 7
    assert event.payload == {"annotation_id": 2, "task_id": 3}
    assert len(event.id) == 32 and event.occurred_at.endswith("+00:00")


def test_every_handler_of_the_event_runs_and_wildcards_see_all(database, worker, register) -> None:
    created, updated, everything = Recorder(), Recorder(), Recorder()

    def on_created(event: Event) -> None:
        created(event)

    def on_either(event: Event) -> None:
        updated(event)

    def on_all(event: Event) -> None:
        everything(event)

    register(on_created, ANNOTATION_CREATED)
    register(on_either, ANNOTATION_CREATED, ANNOTATION_UPDATED)
    register(on_all, events.ALL_EVENTS)
    _publish(database, ANNOTATION_UPDATED, commit=True, annotation_id=5)
    _publish(database, TASKS_CREATED, commit=True, task_count=2)
    assert [e.name for e in updated.wait_for(1)] == [ANNOTATION_UPDATED]
    assert sorted(e.name for e in everything.wait_for(2)) == [ANNOTATION_UPDATED, TASKS_CREATED]
    time.sleep(0.3)
    assert created.events == []


def test_a_failing_handler_is_retried_without_rerunning_the_others(
    database, worker, register
) -> None:
    steady, flaky = Recorder(), Recorder()
    attempts: list[int] = []

    def steady_handler(event: Event) -> None:
        steady(event)

    def flaky_handler(event: Event) -> None:
        attempts.append(1)
        if len(attempts) < 2:
            raise RuntimeError("webhook endpoint down")
        flaky(event)

    register(steady_handler, TASKS_CREATED)
    register(flaky_handler, TASKS_CREATED)
    _publish(database, TASKS_CREATED, commit=True, task_count=1)
    assert len(flaky.wait_for(1, timeout=30)) == 1
    time.sleep(0.3)
    assert len(attempts) == 2
    assert len(steady.events) == 1
    assert steady.events[0].id == flaky.events[0].id
    name = events.handler_name(flaky_handler)
    assert (
        REGISTRY.get_sample_value(
            "labelops_event_handler_runs_total",
            {"event": TASKS_CREATED, "handler": name, "outcome": "failed"},
        )
        == 1
    )


def test_run_handlers_reports_failures_and_runs_only_named_ones(register) -> None:
    seen: list[str] = []

    def first(event: Event) -> None:
        seen.append("first")

    def second(event: Event) -> None:
        seen.append("second")
        raise ValueError("boom")

    register(first, ANNOTATION_CREATED)
    register(second, ANNOTATION_CREATED)
    event = Event(id="e1", name=ANNOTATION_CREATED, project_id=1, payload={}, occurred_at="now")
    failures = events.run_handlers(event)
    assert list(failures) == [events.handler_name(second)]
    assert seen == ["first", "second"]
    seen.clear()
    assert events.run_handlers(event, only=[events.handler_name(first), "gone.handler"]) == {}
    assert seen == ["first"]


def test_publishing_checks_the_event_name_and_payload(database) -> None:
    with database.session() as session:
        with pytest.raises(ValueError, match="unknown event"):
            publish_after_commit(session, "NOT_AN_EVENT", project_id=1, payload={})
        with pytest.raises(TypeError):
            publish_after_commit(session, TASKS_CREATED, project_id=1, payload={"x": object()})
    with pytest.raises(ValueError, match="unknown event"):
        event_handler("NOT_AN_EVENT")
    with pytest.raises(ValueError):
        event_handler()


def test_events_wait_out_a_broker_outage_and_are_sent_once_it_answers(
    database, monkeypatch
) -> None:
    """The change is committed already: the caller sees no error, and the event is sent
    (once) when the broker answers again rather than dropped."""
    sent: list[Any] = []

    class FlakyTask:
        failures = 3

        def apply_async(self, *, args: Any, queue: str) -> None:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("broker down")
            sent.append(args)

    class App:
        tasks = {events.DELIVER_TASK: FlakyTask()}

    def dropped(reason: str) -> float:
        sample = REGISTRY.get_sample_value(
            "labelops_events_dropped_total", {"event": TASKS_CREATED, "reason": reason}
        )
        return sample or 0.0

    monkeypatch.setattr(events, "RETRY_FIRST_SECONDS", 0.01)
    monkeypatch.setattr(events, "labelops_celery_app", lambda: App())
    failures_before = REGISTRY.get_sample_value("labelops_events_send_failures_total") or 0
    dropped_before = dropped("broker_error")
    _publish(database, TASKS_CREATED, commit=True, task_count=1)
    assert events.flush_sent_events(timeout=10)
    assert [args[1:4] for args in sent] == [(TASKS_CREATED, 7, {"task_count": 1})]
    assert REGISTRY.get_sample_value("labelops_events_send_failures_total") == (failures_before + 3)
    assert dropped("broker_error") == dropped_before

    monkeypatch.setattr(events, "labelops_celery_app", lambda: None)
    no_broker_before = dropped("no_broker")
    _publish(database, TASKS_CREATED, commit=True, task_count=1)
    assert events.flush_sent_events(timeout=10)
    assert dropped("no_broker") == no_broker_before + 1


def test_a_message_the_broker_refuses_is_dropped_not_retried(database, monkeypatch) -> None:
    """Only an unreachable broker is waited for: an error that another try would repeat
    is counted and logged, so it never holds back the events committed after it."""
    sent: list[Any] = []

    class RefusingTask:
        def apply_async(self, *, args: Any, queue: str) -> None:
            if args[3].get("task_count") == 1:
                raise TypeError("not serializable")
            sent.append(args)

    class App:
        tasks = {events.DELIVER_TASK: RefusingTask()}

        def connection_for_write(self) -> Any:
            raise RuntimeError("no transport in this test")

    monkeypatch.setattr(events, "labelops_celery_app", lambda: App())
    before = (
        REGISTRY.get_sample_value(
            "labelops_events_dropped_total", {"event": TASKS_CREATED, "reason": "send_error"}
        )
        or 0
    )
    _publish(database, TASKS_CREATED, commit=True, task_count=1)
    assert events.flush_sent_events(timeout=10)
    _publish(database, TASKS_CREATED, commit=True, task_count=2)
    assert events.flush_sent_events(timeout=10)
    assert [args[3] for args in sent] == [{"task_count": 2}]
    assert (
        REGISTRY.get_sample_value(
            "labelops_events_dropped_total", {"event": TASKS_CREATED, "reason": "send_error"}
        )
        == before + 1
    )


def test_past_the_outbox_limit_events_are_dropped_and_counted(database, monkeypatch) -> None:
    release = threading.Event()

    class StuckTask:
        def apply_async(self, **_: Any) -> None:
            assert release.wait(10)

    class App:
        tasks = {events.DELIVER_TASK: StuckTask(), events.DELIVER_BATCH_TASK: StuckTask()}

    monkeypatch.setattr(events, "labelops_celery_app", lambda: App())
    monkeypatch.setattr(events, "MAX_PENDING_EVENTS", 2)
    before = (
        REGISTRY.get_sample_value(
            "labelops_events_dropped_total", {"event": TASKS_CREATED, "reason": "outbox_full"}
        )
        or 0
    )
    for _ in range(4):
        _publish(database, TASKS_CREATED, commit=True, task_count=1)
    release.set()
    assert events.flush_sent_events(timeout=10)
    assert (
        REGISTRY.get_sample_value(
            "labelops_events_dropped_total", {"event": TASKS_CREATED, "reason": "outbox_full"}
        )
        == before + 2
    )


def test_events_that_gather_while_one_is_sent_share_the_next_message(database, monkeypatch) -> None:
    """The request never waits for the broker, and a burst costs a few publishes, not one each."""
    sending = threading.Event()
    release = threading.Event()

    def stuck_at_the_broker() -> None:
        sending.set()
        assert release.wait(10)

    app = _RecordingApp(on_send=stuck_at_the_broker)
    sent = app.sent
    monkeypatch.setattr(events, "labelops_celery_app", lambda: app)
    _publish(database, TASKS_CREATED, commit=True, task_count=0)
    assert sending.wait(10)
    # The first send is stuck at the broker; the commits below return regardless.
    started = time.monotonic()
    for number in range(1, 31):
        _publish(database, ANNOTATION_CREATED, commit=True, annotation_id=number)
    assert time.monotonic() - started < 5
    release.set()
    assert events.flush_sent_events(timeout=10)
    assert [name for name, _ in sent] == [events.DELIVER_TASK, events.DELIVER_BATCH_TASK]
    assert sent[0][1][1:4] == (TASKS_CREATED, 7, {"task_count": 0})
    (batch,) = sent[1][1]
    assert [item[3]["annotation_id"] for item in batch] == list(range(1, 31))
    assert {item[1] for item in batch} == {ANNOTATION_CREATED}


@pytest.mark.parametrize(("linger_seconds", "messages"), [(1.5, 1), (0.05, 2)])
def test_events_committed_within_the_linger_share_one_message(
    database, monkeypatch, linger_seconds: float, messages: int
) -> None:
    """`LABELOPS_EVENTS_LINGER_SECONDS` is how long an event waits for others: two commits
    0.3 s apart share a message under a longer linger, and go one each under a shorter."""
    app = _RecordingApp()
    monkeypatch.setenv("LABELOPS_EVENTS_LINGER_SECONDS", str(linger_seconds))
    get_common_settings.cache_clear()
    monkeypatch.setattr(events, "_outbox", events._Outbox())  # reads the setting when it starts
    monkeypatch.setattr(events, "labelops_celery_app", lambda: app)
    try:
        _publish(database, ANNOTATION_CREATED, commit=True, annotation_id=1)
        time.sleep(0.3)
        _publish(database, ANNOTATION_CREATED, commit=True, annotation_id=2)
        assert events.flush_sent_events(timeout=10)
    finally:
        get_common_settings.cache_clear()
    expected = [events.DELIVER_BATCH_TASK] if messages == 1 else [events.DELIVER_TASK] * 2
    assert [name for name, _ in app.sent] == expected


def test_a_batch_runs_every_event_and_retries_only_the_failed_handler_of_one(
    worker, register
) -> None:
    steady, flaky = Recorder(), Recorder()
    attempts: dict[int, int] = {}

    def steady_handler(event: Event) -> None:
        steady(event)

    def flaky_handler(event: Event) -> None:
        number = event.payload["annotation_id"]
        attempts[number] = attempts.get(number, 0) + 1
        if number == 2 and attempts[number] == 1:
            raise RuntimeError("webhook endpoint down")
        flaky(event)

    register(steady_handler, ANNOTATION_CREATED)
    register(flaky_handler, ANNOTATION_CREATED)
    batch = [
        [f"event-{n}", ANNOTATION_CREATED, 7, {"annotation_id": n}, "2026-01-01T00:00:00+00:00"]
        for n in (1, 2, 3)
    ]
    events.deliver_batch.send(batch)
    assert len(flaky.wait_for(3, timeout=30)) == 3
    time.sleep(0.3)
    assert attempts == {1: 1, 2: 2, 3: 1}
    assert sorted(e.id for e in steady.events) == ["event-1", "event-2", "event-3"]
    assert sorted(e.id for e in flaky.events) == ["event-1", "event-2", "event-3"]

"""Event consumers keyed on `event.id`: a handler registered with `consumer=` applies each
event once, however often the message is delivered (at-least-once delivery)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar

import pytest
from labelops_common import events
from labelops_common.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, Database
from labelops_common.events import (
    ANNOTATION_CREATED,
    Event,
    ProcessedEventMixin,
    event_handler,
    handler_name,
    publish_after_commit,
    unregister_handler,
)
from labelops_common.jobs import JobResources, register_job_resources, unregister_job_resources
from labelops_testing.databases import scratch_database_url
from prometheus_client import REGISTRY
from sqlalchemy import MetaData, String, func, select, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


class ProcessedEvent(ProcessedEventMixin, Base):
    pass


class Delivery(Base):
    """The test consumer's effect: one row per annotation it was told about."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64))
    annotation_id: Mapped[int]


@dataclass(frozen=True)
class ConsumerResources(JobResources):
    service: ClassVar[str] = "test-consumer"


#: Set by a test to make the handler fail after writing its effect.
failures_left: list[int] = []


def record_delivery(event: Event, session: Session) -> None:
    session.add(Delivery(event_id=event.id, annotation_id=event.payload["annotation_id"]))
    session.flush()
    if failures_left and failures_left[0] > 0:
        failures_left[0] -= 1
        raise RuntimeError("the consumer failed after writing")


@pytest.fixture()
def consumer() -> Iterator[Database]:
    """A consuming service: its database (with `processed_events`), its registered
    resources and its handler."""
    with scratch_database_url("events_consumer") as url:
        database = Database.from_url(url)
        Base.metadata.create_all(database.engine)
        resources = ConsumerResources(database=database)
        register_job_resources(resources)
        event_handler(ANNOTATION_CREATED, consumer="test-consumer")(record_delivery)
        failures_left.clear()
        try:
            yield database
        finally:
            unregister_handler(record_delivery)
            unregister_job_resources(resources)
            database.engine.dispose()


def _deliveries(database: Database) -> list[tuple[str, int]]:
    with database.session() as session:
        return [(row.event_id, row.annotation_id) for row in session.scalars(select(Delivery))]


def _duplicates() -> float:
    return (
        REGISTRY.get_sample_value(
            "labelops_event_handler_runs_total",
            {
                "event": ANNOTATION_CREATED,
                "handler": handler_name(record_delivery),
                "outcome": "duplicate",
            },
        )
        or 0
    )


def _wait_for(predicate: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_redelivered_event_is_received_twice_and_applied_once(consumer, worker) -> None:
    with consumer.session() as session:
        session.execute(text("SELECT 1"))
        event_id = publish_after_commit(
            session, ANNOTATION_CREATED, project_id=7, payload={"annotation_id": 5}
        )
        session.commit()
    _wait_for(lambda: _deliveries(consumer))
    duplicates = _duplicates()
    # The broker delivers the same message again (a worker died before acknowledging it).
    events.deliver.send(
        event_id, ANNOTATION_CREATED, 7, {"annotation_id": 5}, "2026-01-01T00:00:00+00:00"
    )
    _wait_for(lambda: _duplicates() > duplicates)
    assert _duplicates() == duplicates + 1  # received again...
    assert _deliveries(consumer) == [(event_id, 5)]  # ...applied once
    with consumer.session() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1
        processed = session.scalars(select(ProcessedEvent)).one()
        assert (processed.event_id, processed.handler) == (event_id, handler_name(record_delivery))


def test_a_failed_handler_leaves_no_record_so_its_retry_applies_the_event(consumer) -> None:
    """The record and the effect share one transaction: a handler that fails after
    writing rolls both back, and the retry (here run directly) applies the event once."""
    failures_left.append(1)
    event = Event(
        id="event-retried",
        name=ANNOTATION_CREATED,
        project_id=7,
        payload={"annotation_id": 9},
        occurred_at="2026-01-01T00:00:00+00:00",
    )
    failures = events.run_handlers(event)
    assert list(failures) == [handler_name(record_delivery)]
    assert _deliveries(consumer) == []
    assert events.run_handlers(event) == {}
    assert events.run_handlers(event) == {}  # a redelivery after success: nothing more
    assert _deliveries(consumer) == [("event-retried", 9)]


def test_a_consumer_handler_needs_its_service_built(consumer) -> None:
    event_handler(ANNOTATION_CREATED, consumer="not-built")(record_delivery)
    failures = events.run_handlers(
        Event(
            id="event-nowhere",
            name=ANNOTATION_CREATED,
            project_id=7,
            payload={"annotation_id": 1},
            occurred_at="2026-01-01T00:00:00+00:00",
        )
    )
    assert "not-built was not built" in str(failures[handler_name(record_delivery)])


def _events(*annotation_ids: int, prefix: str) -> list[Event]:
    return [
        Event(
            id=f"{prefix}-{number}",
            name=ANNOTATION_CREATED,
            project_id=7,
            payload={"annotation_id": number},
            occurred_at="2026-01-01T00:00:00+00:00",
        )
        for number in annotation_ids
    ]


def test_a_batch_uses_one_commit_not_one_per_event(consumer) -> None:
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    sqlalchemy_event.listen(consumer.engine, "commit", committed)
    try:
        events.run_handlers_for_batch(_events(*range(1, 41), prefix="counted"))
    finally:
        sqlalchemy_event.remove(consumer.engine, "commit", committed)
    assert len(_deliveries(consumer)) == 40
    assert len(commits) == 1  # a handler run per event would commit 40 times


def test_an_event_failing_in_a_batch_fails_alone(consumer) -> None:
    """The batch's transaction rolls back; its events are then applied one by one, and
    only the one that fails on its own is reported (to be retried by itself)."""
    failures_left.append(1)  # the first run of the handler fails: the batch's, on event 1
    batch = _events(1, 2, 3, prefix="mixed")
    failures = events.run_handlers_for_batch(batch)
    # The batch failed on its first event; one by one, every event then succeeded.
    assert failures == {}
    assert sorted(_deliveries(consumer)) == [("mixed-1", 1), ("mixed-2", 2), ("mixed-3", 3)]
    failures_left[0] = 2  # the batch and then event 4 on its own fail
    failures = events.run_handlers_for_batch(_events(4, 5, prefix="again"))
    assert list(failures) == ["again-4"]
    assert ("again-5", 5) in _deliveries(consumer)
    assert ("again-4", 4) not in _deliveries(consumer)


def test_an_event_twice_in_one_batch_is_applied_once(consumer) -> None:
    [once] = _events(8, prefix="twice")
    duplicates = _duplicates()
    assert events.run_handlers_for_batch([once, once]) == {}
    assert _deliveries(consumer) == [("twice-8", 8)]
    assert _duplicates() == duplicates + 1


#: What the batch handler was called with: the event ids of each call.
batch_calls: list[list[str]] = []


def record_deliveries(batch: list[Event], session: Session) -> None:
    batch_calls.append([event.id for event in batch])
    for event in batch:
        session.add(Delivery(event_id=event.id, annotation_id=event.payload["annotation_id"]))
    session.flush()
    if failures_left and failures_left[0] > 0:
        failures_left[0] -= 1
        raise RuntimeError("the batch consumer failed after writing")


@pytest.fixture()
def batch_consumer(consumer) -> Iterator[Database]:
    """The test consumer with a batch handler (`batch=True`) instead of its per-event one."""
    unregister_handler(record_delivery)
    event_handler(ANNOTATION_CREATED, consumer="test-consumer", batch=True)(record_deliveries)
    batch_calls.clear()
    try:
        yield consumer
    finally:
        unregister_handler(record_deliveries)


def test_a_batch_handler_gets_the_new_events_of_a_message_in_one_call(batch_consumer) -> None:
    first = _events(1, 2, prefix="batched")
    assert events.run_handlers_for_batch(first) == {}
    # A redelivered message with one new event: only the new one is handed over.
    assert events.run_handlers_for_batch([*first, *_events(3, prefix="batched")]) == {}
    assert batch_calls == [["batched-1", "batched-2"], ["batched-3"]]
    assert sorted(_deliveries(batch_consumer)) == [
        ("batched-1", 1),
        ("batched-2", 2),
        ("batched-3", 3),
    ]


def test_a_failing_batch_handler_retries_its_events_one_by_one(batch_consumer) -> None:
    failures_left.append(2)  # the batch's call and then event 1's own call fail
    failures = events.run_handlers_for_batch(_events(1, 2, prefix="split"))
    assert list(failures) == ["split-1"]
    assert batch_calls == [["split-1", "split-2"], ["split-1"], ["split-2"]]
    assert _deliveries(batch_consumer) == [("split-2", 2)]


def test_a_batch_handler_needs_a_consumer() -> None:
    with pytest.raises(ValueError, match="needs a consumer"):
        event_handler(ANNOTATION_CREATED, batch=True)(record_deliveries)

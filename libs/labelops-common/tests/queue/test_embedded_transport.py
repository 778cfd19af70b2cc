"""The embedded transport when several processes start at once (`make run` on N cores)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import pytest
from labelops_common.queue.embedded import create_tables
from labelops_testing.databases import scratch_database_url
from sqlalchemy import create_engine, text

QUEUES = [f"queue-{number}" for number in range(20)]


@pytest.fixture
def broker_url() -> Iterator[str]:
    with scratch_database_url("transport") as url:
        yield "sqla+" + url


def _declare_all(broker_url: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    from kombu import Connection, Queue
    from labelops_common.queue.embedded import configure_transport

    configure_transport()
    with Connection(broker_url) as connection:
        channel = connection.default_channel
        barrier.wait(timeout=60)
        for name in QUEUES:
            Queue(name, channel=channel).declare()


def test_processes_declaring_the_same_queues_at_once_all_succeed(broker_url: str) -> None:
    create_tables(broker_url)  # what the parent of `serve --processes` does first
    context = multiprocessing.get_context("fork")  # the target lives in this test module
    barrier = context.Barrier(4)
    processes = [context.Process(target=_declare_all, args=(broker_url, barrier)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    engine = create_engine(broker_url.removeprefix("sqla+"))
    try:
        with engine.connect() as connection:
            names = connection.execute(text("SELECT name FROM kombu_queue")).scalars().all()
    finally:
        engine.dispose()
    assert sorted(names) == sorted(QUEUES)

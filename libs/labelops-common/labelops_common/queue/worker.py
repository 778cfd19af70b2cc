"""A real Celery worker inside the single process, for laptops and tests.

uvicorn owns the main thread (and its signals), so the worker runs its WorkController
in a thread with the thread pool and without the gossip, mingle and heartbeat chatter
that makes embedded transports slow to stop.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from celery import Celery

from labelops_common.queue.tasks import consume_queues


class EmbeddedWorker:
    def __init__(self, app: Celery, *, queues: Sequence[str], concurrency: int) -> None:
        consume_queues(queues)
        self._controller = app.WorkController(
            app=app,
            pool_cls="threads",
            concurrency=concurrency,
            queues=list(queues),
            without_gossip=True,
            without_mingle=True,
            without_heartbeat=True,
            loglevel="INFO",
        )
        self._thread = threading.Thread(
            target=self._controller.start, name="celery-embedded-worker", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._controller.stop(in_sighandler=False)
        self._thread.join(timeout)


def start_embedded_worker(
    app: Celery, *, queues: Sequence[str], concurrency: int = 2
) -> EmbeddedWorker:
    worker = EmbeddedWorker(app, queues=queues, concurrency=concurrency)
    worker.start()
    return worker

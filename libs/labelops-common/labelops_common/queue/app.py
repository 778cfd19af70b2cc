"""The Celery app every process builds: JSON only, late acks, job state in the DB."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Celery
from celery import _state as celery_state
from kombu import Queue

from labelops_common.queue.embedded import configure_transport, is_embedded_queue
from labelops_common.queue.tasks import route_by_declared_queue


def create_celery_app(*, name: str, broker_url: str, queues: Sequence[str]) -> Celery:
    app = Celery(name, broker=broker_url, set_as_current=True)
    transport_options: dict[str, object] = {}
    if broker_url.startswith(("redis://", "rediss://")):
        # Job rows are the source of truth; the lease sweeper re-enqueues lost work much
        # sooner than Redis would redeliver an unacknowledged message.
        transport_options = {"visibility_timeout": 3600}
    elif is_embedded_queue(broker_url):
        configure_transport()
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        # A job is acknowledged when it finishes, so a crash mid-job redelivers it...
        task_acks_late=True,
        # ...also when only the pool child dies.
        task_reject_on_worker_lost=True,
        # One message at a time per worker process: long jobs must not hoard others.
        worker_prefetch_multiplier=1,
        # Job state lives in the owning service's DB, not in a result backend.
        task_ignore_result=True,
        task_default_queue=queues[0] if queues else "default",
        task_queues=[Queue(queue) for queue in queues] or None,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options,
        worker_hijack_root_logger=False,
        task_routes=(route_by_declared_queue,),
    )
    # `set_as_current` holds for the building thread only; HTTP and gRPC handler threads
    # fall back to the process default, which must be this app, not Celery's AMQP default.
    app.set_default()
    return app


def _is_fallback(app: Any) -> bool:
    return app is None or app.main == "default"


def labelops_celery_app() -> Any | None:
    """The process's Celery app, from any thread.

    Celery's "current app" is thread-local: a request thread of the HTTP server does not
    see the app `create_celery_app` built in the main thread. So: this thread's app, else
    the process default (`create_celery_app` sets it). An app that is neither, one a
    finished test built, say, is not the process's: its broker may be gone.
    """
    app = celery_state._tls.current_app
    if not _is_fallback(app):
        return app
    if not _is_fallback(celery_state.default_app):
        return celery_state.default_app
    return None

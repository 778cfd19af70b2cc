"""Celery over kombu: the app factory, the task wrapper and its handle, the worker."""

from labelops_common.queue.app import create_celery_app, labelops_celery_app
from labelops_common.queue.embedded import is_embedded_queue, purge_delivered_messages
from labelops_common.queue.metrics import QueueDepthCollector
from labelops_common.queue.tasks import (
    JobHandle,
    call_after_commit,
    consume_queues,
    handles_in,
    labelops_task,
)
from labelops_common.queue.worker import EmbeddedWorker, start_embedded_worker

__all__ = [
    "EmbeddedWorker",
    "JobHandle",
    "QueueDepthCollector",
    "call_after_commit",
    "consume_queues",
    "create_celery_app",
    "handles_in",
    "is_embedded_queue",
    "labelops_celery_app",
    "labelops_task",
    "purge_delivered_messages",
    "start_embedded_worker",
]

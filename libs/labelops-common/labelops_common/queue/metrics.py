"""Queue depth and the age of the oldest waiting message, read from the broker at scrape time.

A worker process registers `QueueDepthCollector` for the queues it consumes, so every queue
with a worker Deployment is measured without a separate exporter. Depth comes from a passive
`queue_declare` (Redis, RabbitMQ and the embedded
PostgreSQL transport all answer it); the oldest message's
age is read on Redis, where the queue is a list whose tail is the next message, from the
enqueue time every LabelOps message carries in its headers.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from kombu import Connection
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from labelops_common.queue.tasks import ENQUEUED_AT_HEADER

logger = logging.getLogger(__name__)


class QueueDepthCollector(Collector):
    """`labelops_queue_depth`, `labelops_queue_oldest_message_age_seconds`, `labelops_broker_up`."""

    def __init__(
        self, *, broker_url: str, queues: Sequence[str], timeout_seconds: float = 2.0
    ) -> None:
        self.broker_url = broker_url
        self.queues = list(queues)
        self.timeout_seconds = timeout_seconds

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "labelops_queue_depth", "Messages waiting in the queue.", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "labelops_queue_oldest_message_age_seconds",
            "Seconds the next message of the queue has waited (0 when empty; Redis only).",
            labels=["queue"],
        )
        broker_up = GaugeMetricFamily(
            "labelops_broker_up", "1 when the broker answered the last scrape, else 0."
        )
        try:
            with Connection(self.broker_url, connect_timeout=self.timeout_seconds) as connection:
                connection.ensure_connection(max_retries=1, timeout=self.timeout_seconds)
                for queue in self.queues:
                    count, oldest = _inspect_queue(connection, queue)
                    depth.add_metric([queue], count)
                    if oldest is not None:
                        age.add_metric([queue], max(0.0, time.time() - oldest))
                    elif count == 0:
                        age.add_metric([queue], 0.0)
            broker_up.add_metric([], 1.0)
        except Exception as exc:
            logger.warning(
                "broker unreachable for queue metrics", extra={"error": type(exc).__name__}
            )
            broker_up.add_metric([], 0.0)
        yield depth
        yield age
        yield broker_up


def _inspect_queue(connection: Connection, queue: str) -> tuple[int, float | None]:
    """Messages waiting and the next one's enqueue time (None where it cannot be read).

    A queue the broker does not know (never used) holds none. Each queue gets its own
    channel, because AMQP closes a channel whose passive declare failed.
    """
    channel = connection.channel()
    try:
        try:
            declared = channel.queue_declare(queue=queue, passive=True)
        except connection.channel_errors:
            return 0, None
        count = int(declared.message_count)
        return count, _oldest_enqueued_at(channel, queue) if count else None
    finally:
        channel.close()


def _oldest_enqueued_at(channel: Any, queue: str) -> float | None:
    """Enqueue time of the next message on Redis (kombu pushes left and pops right)."""
    if not type(channel).__module__.startswith("kombu.transport.redis"):
        return None
    raw = channel.client.lindex(queue, -1)
    if raw is None:
        return None
    try:
        headers = json.loads(raw).get("headers") or {}
        return float(headers[ENQUEUED_AT_HEADER])
    except (ValueError, KeyError, TypeError):
        return None

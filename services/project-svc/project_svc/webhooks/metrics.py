"""Webhook delivery figures: outcomes, latency and how long deliveries wait to be sent.

`labelops_webhook_deliveries_total{outcome}` counts attempts by what came of them:
`succeeded`, `retried` (failed, will try again), `failed` (gave up), `refused` (the URL
failed the outbound address policy) and `cancelled` (the webhook was deleted or
switched off meanwhile).
"""

from prometheus_client import Counter, Histogram

DELIVERIES = Counter(
    "labelops_webhook_deliveries_total", "Webhook delivery attempts by outcome.", ["outcome"]
)
#: From the event to the receiver's 2xx: what a receiver experiences.
DELIVERY_LATENCY = Histogram(
    "labelops_webhook_delivery_latency_seconds",
    "Seconds from the event to its delivery's successful request.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)
REQUEST_SECONDS = Histogram(
    "labelops_webhook_request_seconds",
    "Duration of one webhook request (the receiver's answer time).",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
#: From when a delivery was due (created, or its retry time) to when an attempt started.
QUEUE_AGE = Histogram(
    "labelops_webhook_queue_age_seconds",
    "Seconds a due webhook delivery waited before its attempt started.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)

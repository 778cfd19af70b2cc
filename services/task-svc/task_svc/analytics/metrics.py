"""Analytics figures for Prometheus (the default registry `/metrics` serves).

Counted once per source row, when the event handler first applies it (exactly once, as
the rollups are). No project or user labels: their number is unbounded, and the API's
rollups answer per-project and per-person questions.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ANNOTATIONS_CREATED = Counter(
    "labelops_analytics_annotations_created_total",
    "Annotations created (submitted or skipped), counted by the analytics handler.",
)
REVIEWS = Counter(
    "labelops_analytics_reviews_total",
    "Review outcomes counted into the analytics rollups (an outcome changed counts again).",
    ["outcome"],
)
ANNOTATION_LEAD_TIME = Histogram(
    "labelops_analytics_annotation_lead_time_seconds",
    "Label Studio's annotation lead_time: seconds an annotator spent on a new annotation.",
    buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600),
)
TASK_AGREEMENT = Histogram(
    "labelops_analytics_task_agreement_ratio",
    "Task agreement (0 to 1) as each computation reports it.",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0),
)
for _outcome in ("accepted", "rejected"):
    REVIEWS.labels(_outcome)

"""ML backend figures for Prometheus (deploy/monitoring/README.md's contract).

The `backend` label is the backend's id: never its URL, title or credentials.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

BACKEND_UP = Gauge(
    "labelops_ml_backend_up",
    "1 when the ML backend's last health check answered, else 0.",
    ["backend"],
)
PREDICT_SECONDS = Histogram(
    "labelops_ml_predict_duration_seconds",
    "Time of one /predict call to an ML backend (a batch of tasks or one interactive call).",
    ["backend"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
PREDICT_ERRORS = Counter(
    "labelops_ml_predict_errors_total",
    "/predict calls that failed (unreachable, timeout, error status, malformed answer, "
    "circuit open).",
    ["backend"],
)
REQUESTS = Counter(
    "labelops_ml_requests_total",
    "Calls to ML backends by protocol call (health, setup, predict, train, webhook, versions) "
    "and outcome (ok, or the failure kind).",
    ["backend", "call", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "labelops_ml_request_duration_seconds",
    "Time of calls to ML backends, by protocol call.",
    ["backend", "call"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
CIRCUIT_STATE = Gauge(
    "labelops_ml_circuit_state",
    "The ML backend's circuit breaker in this process: 0 closed, 1 open, 2 half-open.",
    ["backend"],
)
PREDICTION_JOB_TASKS = Counter(
    "labelops_ml_prediction_job_tasks_total",
    "Tasks handled by prediction jobs, by outcome (predicted, skipped: already predicted "
    "for the model version, failed: the backend failed or answered something unusable).",
    ["outcome"],
)
PREDICTION_JOBS_RUNNING = Gauge(
    "labelops_ml_prediction_jobs_running",
    "Prediction jobs running in this process.",
)

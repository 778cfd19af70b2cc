"""Metrics, JSON logs, tracing and health endpoints, the same in every process."""

from labelops_common.observability.database import observe_database_errors
from labelops_common.observability.health import (
    ReadinessCheck,
    broker_check,
    build_health_router,
    database_check,
    grpc_peer_check,
)
from labelops_common.observability.identity import SERVICE_HEADER, ServiceHeaderMiddleware
from labelops_common.observability.logging import configure_logging
from labelops_common.observability.metrics import (
    PrometheusHTTPMiddleware,
    add_metrics_route,
    metrics_response,
)
from labelops_common.observability.tracing import (
    configure_tracing,
    instrument_celery,
    instrument_fastapi_app,
    instrument_grpc,
    instrument_sqlalchemy_engine,
)

__all__ = [
    "SERVICE_HEADER",
    "PrometheusHTTPMiddleware",
    "ReadinessCheck",
    "ServiceHeaderMiddleware",
    "add_metrics_route",
    "broker_check",
    "build_health_router",
    "configure_logging",
    "configure_tracing",
    "database_check",
    "grpc_peer_check",
    "instrument_celery",
    "instrument_fastapi_app",
    "instrument_grpc",
    "instrument_sqlalchemy_engine",
    "metrics_response",
    "observe_database_errors",
]

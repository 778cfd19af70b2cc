"""The FastAPI app every service builds, with the suite's conventions already in place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi import APIRouter, Depends, FastAPI

from labelops_common.auth.authenticate import LegacyTokenResolver, RequestAuthenticator
from labelops_common.http.errors import ERROR_RESPONSES, install_error_handlers
from labelops_common.http.storable import refuse_unstorable_text
from labelops_common.observability import (
    PrometheusHTTPMiddleware,
    ReadinessCheck,
    add_metrics_route,
    build_health_router,
    instrument_fastapi_app,
)
from labelops_common.version import LABELOPS_VERSION


def create_service_app(
    *,
    service_name: str,
    routers: Sequence[APIRouter],
    secret_key: str,
    legacy_token_resolver: LegacyTokenResolver,
    readiness_checks: Mapping[str, ReadinessCheck],
) -> FastAPI:
    """A service's HTTP app: its routers, Label Studio's error body, auth, metrics, health.

    `redirect_slashes` is off because every route already answers both slash forms.
    """
    app = FastAPI(
        title=f"LabelOps {service_name}",
        version=LABELOPS_VERSION,
        redirect_slashes=False,
        docs_url=None,
        redoc_url=None,
        openapi_url=f"/api/openapi/{service_name}.json",
        responses=ERROR_RESPONSES,
        dependencies=[Depends(refuse_unstorable_text)],
    )
    app.state.service_name = service_name
    app.state.authenticator = RequestAuthenticator(
        secret=secret_key, legacy_resolver=legacy_token_resolver
    )
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)
    app.include_router(build_health_router(checks=readiness_checks))
    add_metrics_route(app)
    app.add_middleware(PrometheusHTTPMiddleware, service=service_name)
    instrument_fastapi_app(app)
    return app

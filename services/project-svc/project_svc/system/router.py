"""`/health` and `/api/version`: unauthenticated, as in Label Studio."""

from __future__ import annotations

from labelops_common.http.routing import ApiRouter
from labelops_common.version import LABEL_STUDIO_COMPATIBLE_RELEASE, LABELOPS_VERSION

from project_svc.system.schemas import (
    BackendVersion,
    ComponentVersion,
    HealthAnswer,
    PackageVersion,
    VersionAnswer,
)

router = ApiRouter(tags=["system"])


@router.get("/health", response_model=HealthAnswer)
def health() -> HealthAnswer:
    return HealthAnswer(status="UP")


@router.get("/api/version", response_model=VersionAnswer)
def version() -> VersionAnswer:
    """Answers as the Community edition, so SDK export helpers take the synchronous path."""
    return VersionAnswer(
        release=LABEL_STUDIO_COMPATIBLE_RELEASE,
        edition="Community",
        os_package=PackageVersion(
            version=LABEL_STUDIO_COMPATIBLE_RELEASE,
            short_version=LABEL_STUDIO_COMPATIBLE_RELEASE.rsplit(".", 1)[0],
            latest_version_from_pypi=None,
        ),
        os_backend=BackendVersion(message="LabelOps", commit=LABELOPS_VERSION),
        frontend={},
        dm2={},
        converter=ComponentVersion(version=LABELOPS_VERSION),
        labelops=ComponentVersion(version=LABELOPS_VERSION),
    )

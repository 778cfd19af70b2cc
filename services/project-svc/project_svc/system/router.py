"""`/health` and `/api/version`: unauthenticated, as in Label Studio."""

from __future__ import annotations

from typing import Any

from labelops_common.http.routing import ApiRouter
from labelops_common.version import LABEL_STUDIO_COMPATIBLE_RELEASE, LABELOPS_VERSION

router = ApiRouter(tags=["system"])


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "UP"}


@router.get("/api/version")
def version() -> dict[str, Any]:
    """Answers as the Community edition, so SDK export helpers take the synchronous path."""
    package = {
        "version": LABEL_STUDIO_COMPATIBLE_RELEASE,
        "short_version": LABEL_STUDIO_COMPATIBLE_RELEASE.rsplit(".", 1)[0],
        "latest_version_from_pypi": None,
    }
    return {
        "release": LABEL_STUDIO_COMPATIBLE_RELEASE,
        "edition": "Community",
        "label-studio-os-package": package,
        "label-studio-os-backend": {"message": "LabelOps", "commit": LABELOPS_VERSION},
        "label-studio-frontend": {},
        "dm2": {},
        "label-studio-converter": {"version": LABELOPS_VERSION},
        "labelops": {"version": LABELOPS_VERSION},
    }

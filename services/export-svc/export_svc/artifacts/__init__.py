"""Where export files live: the shared artifact storage (local disk, S3, GCS or Azure Blob).

The contract and the backends are in `labelops_common.artifacts`; export-svc only names the
keys (`exports/<project>/<id>.json`) and picks the backend from the common settings.
"""

from labelops_common.artifacts import (
    ArtifactStorage,
    ArtifactStorageError,
    ArtifactWriter,
    LocalArtifactStorage,
    artifact_storage,
)

__all__ = [
    "ArtifactStorage",
    "ArtifactStorageError",
    "ArtifactWriter",
    "LocalArtifactStorage",
    "artifact_storage",
]

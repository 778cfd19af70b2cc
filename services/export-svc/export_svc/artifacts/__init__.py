"""Where export files live: one small interface, one backend per module (local disk today)."""

from export_svc.artifacts.base import ArtifactStorage, ArtifactWriter
from export_svc.artifacts.local import LocalArtifactStorage

__all__ = ["ArtifactStorage", "ArtifactWriter", "LocalArtifactStorage"]

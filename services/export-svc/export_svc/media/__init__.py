"""Task media (images, audio) fetched into export archives: `*_WITH_IMAGES` and `download_resources`."""

from export_svc.media.fetch import (
    CloudResolver,
    FetchedMedia,
    MediaAccess,
    MediaFetcher,
    MediaTooLarge,
    MediaUnavailable,
)

__all__ = [
    "CloudResolver",
    "FetchedMedia",
    "MediaAccess",
    "MediaFetcher",
    "MediaTooLarge",
    "MediaUnavailable",
]

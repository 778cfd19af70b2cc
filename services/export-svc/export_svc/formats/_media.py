"""Media files written into an archive, each once, with the facts writers read from them.

`COCO_WITH_IMAGES` needs an image's size, VOC its channels, ASR_MANIFEST an audio file's
duration: the file is fetched once (see `export_svc.media`), measured, and written as an
archive entry; a second task naming the same file reuses what was measured.
"""

from __future__ import annotations

import contextlib
import re
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlparse

from PIL import Image

from export_svc.formats._zipstream import ZipStream
from export_svc.media import FetchedMedia, MediaFetcher, MediaUnavailable

_UNSAFE = re.compile(r"[\x00-\x1f\\:]")


def reference_file_name(reference: str, default: str = "image") -> str:
    """The file name a media reference ends with, safe as one archive path segment.

    A local file (`/data/local-files/?d=dir/a.png`) or a proxied upload
    (`/storage-data/uploaded/?filepath=upload/1/a.png`) is named by its query; anything else
    by its path. Backslashes, colons and control characters become `_`, and `.`/`..` the
    default, so no entry can climb out of its folder when the archive is unpacked.
    """
    parsed = urlparse(reference)
    query = parse_qs(parsed.query)
    path = (query.get("d") or query.get("filepath") or [""])[0] if not parsed.scheme else ""
    path = path or parsed.path
    name = _UNSAFE.sub("_", unquote(path).rstrip("/").rsplit("/", 1)[-1])
    return default if name in ("", ".", "..") else name


@dataclass(frozen=True)
class MediaFacts:
    name: str
    width: int | None = None
    height: int | None = None
    channels: int | None = None
    duration: float | None = None


class ArchiveMedia:
    """Puts fetched media into `archive`, by archive name, once each."""

    def __init__(self, archive: ZipStream, fetcher: MediaFetcher) -> None:
        self._archive = archive
        self._fetcher = fetcher
        self._seen: dict[str, MediaFacts | None] = {}

    def put(self, reference: str, name: str) -> tuple[MediaFacts | None, Iterator[bytes]]:
        """The file's facts (None when it could not be fetched) and the archive bytes to send."""
        if name in self._seen:
            return self._seen[name], iter(())
        try:
            fetched = self._fetcher.fetch(reference)
        except MediaUnavailable:
            self._seen[name] = None
            return None, iter(())
        facts = _measure(name, fetched)
        self._seen[name] = facts
        return facts, self._entry(name, fetched)

    def _entry(self, name: str, fetched: FetchedMedia) -> Iterator[bytes]:
        with fetched:
            yield from self._archive.entry(name, fetched.chunks())


def _measure(name: str, fetched: FetchedMedia) -> MediaFacts:
    width = height = channels = None
    duration = None
    fetched.file.seek(0)
    with contextlib.suppress(Exception), Image.open(fetched.file) as image:
        width, height = image.size
        channels = len(image.getbands())
    if width is None and name.lower().endswith(".wav"):
        fetched.file.seek(0)
        with contextlib.suppress(Exception), wave.open(fetched.file, "rb") as audio:
            duration = audio.getnframes() / float(audio.getframerate())
    fetched.file.seek(0)
    return MediaFacts(name=name, width=width, height=height, channels=channels, duration=duration)

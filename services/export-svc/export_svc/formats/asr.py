"""ASR_MANIFEST: NVIDIA NeMo's JSON-lines manifest of audio files and their transcriptions, zipped.

Follows the converter's `convert_to_asr_json_manifest`: one line per converted item,
`{"audio_filepath": "audio/<file>", "duration": <seconds>, "text": <first transcription>,
"annotator": ...}`, with the audio under `audio/` when it is fetched (`download_resources`,
on by default, as in Label Studio). Label Studio leaves out an item whose audio it could
not download or measure; here the line stays, with `duration` null, so a transcription is
never lost for want of its file (the duration is read from WAV files only, as there).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from export_svc.formats import register
from export_svc.formats._base import ExportContext, ExportFormat, Record, dumps
from export_svc.formats._fits import fits_asr
from export_svc.formats._items import Item, items
from export_svc.formats._media import ArchiveMedia, reference_file_name
from export_svc.formats._zipstream import ZipStream


def _transcript(item: Item) -> str | None:
    for values in item.output.values():
        if values and values[0].get("text"):
            text = values[0]["text"]
            return str(text[0]) if isinstance(text, list) else str(text)
    return None


def _annotator(item: Item) -> Any:
    """The converter's `get_annotator(item, default="")`."""
    if isinstance(item.completed_by, dict):
        return item.completed_by.get("email", "")
    return str(item.completed_by)


class _AudioNames:
    """`audio/<file name>`; a second file of the same name gets a suffix from its URL."""

    def __init__(self) -> None:
        self._owners: dict[str, str] = {}

    def name(self, reference: str) -> str:
        base = reference_file_name(reference, default="audio")
        owner = self._owners.setdefault(base, reference)
        if owner != reference:
            stem, extension = os.path.splitext(base)
            digest = hashlib.md5(reference.encode(), usedforsecurity=False).hexdigest()[:4]
            base = f"{stem}_{digest}{extension}"
            self._owners.setdefault(base, reference)
        return f"audio/{base}"


def write_asr_manifest(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    data_key = context.first_data_key()
    archive = ZipStream()
    media = (
        ArchiveMedia(archive, context.media)
        if context.media is not None and context.fetches_media("optional")
        else None
    )
    names = _AudioNames()
    with _LineSpool() as manifest:
        for record in records:
            for item in items(record, context.parsed):
                reference = item.input.get(data_key)
                text = _transcript(item)
                if not isinstance(reference, str) or not reference or text is None:
                    continue
                path = names.name(reference)
                duration = None
                if media is not None:
                    facts, entry = media.put(reference, path)
                    yield from entry
                    duration = facts.duration if facts is not None else None
                line = {
                    "audio_filepath": path,
                    "duration": duration,
                    "text": text,
                    "annotator": _annotator(item),
                }
                manifest.add(dumps(line) + b"\n")
        yield from archive.entry("manifest.json", manifest.chunks())
    yield from archive.close()


class _LineSpool:
    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed on exit)

    def add(self, line: bytes) -> None:
        self._file.write(line)

    def chunks(self) -> Iterator[bytes]:
        self._file.seek(0)
        while chunk := self._file.read(256 * 1024):
            yield chunk

    def __enter__(self) -> _LineSpool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._file.close()


ASR_MANIFEST = register(
    ExportFormat(
        name="ASR_MANIFEST",
        title="ASR Manifest",
        link="https://labelstud.io/guide/export.html#ASR-MANIFEST",
        extension="zip",
        fits=fits_asr,
        write=write_asr_manifest,
        tags=("speech recognition",),
        order=150,
        media="optional",
    )
)

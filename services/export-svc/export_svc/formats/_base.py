"""What a format is: a name, the labeling-config shapes it fits, and a streaming writer.

A writer takes an iterable of Label Studio JSON task records (read batch by batch from
task-svc, or line by line from a snapshot file) and yields bytes; it never needs the whole
project at once. Formats that need a second pass (CSV's columns, COCO's categories) spool
to a temporary file, not to memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from defusedxml.ElementTree import fromstring as defused_fromstring

if TYPE_CHECKING:
    from export_svc.media import MediaFetcher

import orjson

Record = dict[str, Any]


@dataclass(frozen=True)
class ConfigShape:
    """The facts about a labeling config that decide which formats fit it (Label Studio's rules)."""

    #: Control tag types (`Labels`, `RectangleLabels`, ...).
    controls: frozenset[str] = frozenset()
    #: Object tag types the controls point at (`Text`, `Image`, ...); a `Text` read from a
    #: URL (`valueType="url"`) is left out, as Label Studio's converter leaves it out.
    objects: frozenset[str] = frozenset()
    #: How many distinct task data keys the controls read.
    data_key_count: int = 0
    #: An object takes a list of items (`valueList`, multi-image).
    has_value_list: bool = False

    @classmethod
    def from_parsed(cls, parsed: dict[str, Any], label_config: str = "") -> ConfigShape:
        url_text_keys = _url_text_keys(label_config)
        controls = frozenset(str(info.get("type", "")) for info in parsed.values())
        objects: set[str] = set()
        data_keys: set[str] = set()
        for info in parsed.values():
            for item in info.get("inputs", []):
                kind, key = str(item.get("type", "")), str(item.get("value", ""))
                data_keys.add(key)
                if not (kind == "Text" and key in url_text_keys):
                    objects.add(kind)
        return cls(
            controls=controls,
            objects=frozenset(objects),
            data_key_count=len(data_keys),
            has_value_list="valueList=" in label_config,
        )


def _url_text_keys(label_config: str) -> frozenset[str]:
    """Data keys of `<Text valueType="url">` tags (their text is fetched, not stored)."""
    if "valueType" not in label_config:
        return frozenset()
    try:
        root = defused_fromstring(
            label_config, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except Exception:
        return frozenset()
    return frozenset(
        element.get("value", "").lstrip("$")
        for element in root.iter("Text")
        if element.get("valueType") == "url"
    )


#: When a format needs the task's media (images, audio) in the archive.
MediaUse = Literal["never", "always", "optional"]


@dataclass(frozen=True)
class ExportContext:
    """What a writer may know about the project besides its tasks."""

    project_id: int
    #: Label Studio's `parsed_label_config`.
    parsed: dict[str, Any] = field(default_factory=dict)
    #: The labeling config's XML (DocLang reads its image keys from it).
    label_config: str = ""
    #: Label Studio's `download_resources`: formats whose media is optional fetch it.
    download_resources: bool = False
    #: Where media comes from; None when this export fetches none.
    media: MediaFetcher | None = None

    def data_key_of(self, object_types: Iterable[str]) -> str | None:
        """The data key of the first object of one of `object_types` that a control labels."""
        wanted = set(object_types)
        for info in self.parsed.values():
            for item in info.get("inputs", []):
                if item.get("type") in wanted and item.get("value"):
                    return str(item["value"])
        return None

    def first_data_key(self) -> str:
        """Label Studio's `self._data_keys[0]` for a config with one data key."""
        for info in self.parsed.values():
            for item in info.get("inputs", []):
                if item.get("value"):
                    return str(item["value"])
        return ""

    def fetches_media(self, use: MediaUse) -> bool:
        return self.media is not None and (
            use == "always" or (use == "optional" and self.download_resources)
        )


Writer = Callable[[Iterable[Record], ExportContext], Iterator[bytes]]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    title: str
    link: str
    #: File extension of the download (`json`, `csv`, `zip`, ...).
    extension: str
    #: Does the format make sense for this config? Unfit formats are listed as disabled.
    fits: Callable[[ConfigShape], bool]
    write: Writer
    tags: tuple[str, ...] = ()
    #: Position in Label Studio's list of formats.
    order: int = 100
    #: Listed by `/export/formats`; a legacy alias (`CSV_OLD`) is accepted but not listed.
    listed: bool = True
    #: Whether the archive carries the tasks' media: never, always (`*_WITH_IMAGES`), or
    #: when the request asks for it (`download_resources`, Label Studio's default).
    media: MediaUse = "never"
    #: Why this project's config cannot be written although it fits (None when it can).
    precheck: Callable[[dict[str, Any]], str | None] | None = None

    @property
    def media_type(self) -> str:
        """Label Studio answers `application/<ext>`; JSON keeps its registered type."""
        return "application/json" if self.extension == "json" else f"application/{self.extension}"

    def describe(self, shape: ConfigShape) -> dict[str, Any]:
        entry: dict[str, Any] = {"title": self.title, "link": self.link}
        if self.tags:
            entry["tags"] = list(self.tags)
        entry["name"] = self.name
        if not self.fits(shape):
            entry["disabled"] = True
        return entry


def any_config(_shape: ConfigShape) -> bool:
    return True


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON. orjson writes it at ~10x the stdlib's speed (the export's hot
    path); what it refuses (integers beyond 64 bits) goes through the stdlib."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def json_array(items: Iterable[Any]) -> Iterator[bytes]:
    """A JSON array with one item per line: valid JSON, and readable back line by line."""
    yield b"["
    first = True
    for item in items:
        yield (b"\n" if first else b",\n") + dumps(item)
        first = False
    yield b"\n]\n"


def records_from_json_array(chunks: Iterable[bytes]) -> Iterator[Record]:
    """Read back what `json_array` wrote, one record at a time."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            record = _record_line(line)
            if record is not None:
                yield record
    record = _record_line(pending)
    if record is not None:
        yield record


def _record_line(line: bytes) -> Record | None:
    line = line.strip()
    if line.endswith(b","):
        line = line[:-1]
    if not line or line in (b"[", b"]"):
        return None
    value: Record = orjson.loads(line)
    return value

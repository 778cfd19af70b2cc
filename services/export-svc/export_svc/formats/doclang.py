"""DOCLANG: DocLang `.dclx` archives (OPC: `document.xml`, page images, assets), zipped together.

Follows the SDK converter's `exports/doclang.py`: a document is a DocLang XML string
(root `<doclang>`, no namespace or `https://www.doclang.ai/ns/v<N>`, no DTD) found in a
result's text (TextArea), `reactcode` (ReactCode) or any custom result's value. One
archive per source: `task-<id>-annotation-<id>.dclx` for each submitted annotation holding
a document, then `draft-` and `prediction-` ones (predictions appear when the records
carry them in full), and when none of those has one, the documents under `doclang` /
`document` keys of the task data (`task-<id>-data.dclx`). With `download_resources`, the
task's page images (the config's `Image` value, or its `valueList`) become the archive's
pages and `<src uri>` assets are fetched into `assets/`. Archives are packed with
`doclang.pack`, as there, without schema validation.
"""

from __future__ import annotations

import base64
import binascii
import logging
import mimetypes
import posixpath
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qsl, urlparse

from defusedxml.ElementTree import fromstring as defused_fromstring

from export_svc.formats import register
from export_svc.formats._base import ExportContext, ExportFormat, Record
from export_svc.formats._fits import fits_doclang
from export_svc.formats._zipstream import ZipStream
from export_svc.media import MediaFetcher, MediaUnavailable

if TYPE_CHECKING:
    from lxml import etree

# lxml and doclang load with the first DocLang export, not with the catalogue.

logger = logging.getLogger(__name__)

NAMESPACE_PREFIX = "https://www.doclang.ai/ns/"
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp"}
ASSET_EXTENSIONS = IMAGE_EXTENSIONS | {".svg"}
MAX_DEPTH = 32
MAX_NODES = 10_000
DATA_KEYS = ("doclang", "document")
#: Result types whose values are never documents (the converter's list).
NOT_DOCUMENTS = frozenset(
    {
        "bitmask", "bitmasklabels", "brush", "brushlabels", "chatmessage", "choices",
        "datetime", "ellipse", "ellipselabels", "hypertextlabels", "keypoint",
        "keypointlabels", "labels", "magicwand", "number", "ocrlabels", "pairwise",
        "paragraphlabels", "polygon", "polygonlabels", "ranker", "rating", "rectangle",
        "rectanglelabels", "relation", "taxonomy", "timelinelabels", "timeserieslabels",
        "vector", "vectorlabels", "videorectangle", "videovector", "videovectorlabels",
    }
)  # fmt: skip


def _parser() -> etree.XMLParser:
    from lxml import etree

    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, recover=False, huge_tree=True
    )


def doclang_bytes(value: str) -> bytes | None:
    """The document's bytes when `value` is DocLang XML, else None."""
    if "doclang" not in value:
        return None
    from lxml import etree

    try:
        encoded = value.encode("utf-8")
        root = etree.fromstring(encoded, parser=_parser())
        name = etree.QName(root)
    except (ValueError, etree.XMLSyntaxError):
        return None
    version = (
        name.namespace.removeprefix(NAMESPACE_PREFIX)
        if name.namespace and name.namespace.startswith(NAMESPACE_PREFIX)
        else None
    )
    namespaced = not name.namespace or (
        version is not None and version.startswith("v") and version[1:].isdigit()
    )
    if name.localname != "doclang" or not namespaced or root.getroottree().docinfo.doctype:
        return None
    return encoded


def _strings(value: Any) -> Iterator[str]:
    stack: list[Iterator[tuple[Any, int]]] = [iter(((value, 0),))]
    visited = 0
    while stack and visited < MAX_NODES:
        try:
            current, depth = next(stack[-1])
        except StopIteration:
            stack.pop()
            continue
        visited += 1
        if isinstance(current, str):
            yield current
        elif depth < MAX_DEPTH and isinstance(current, dict):
            stack.append((child, depth + 1) for child in current.values())
        elif depth < MAX_DEPTH and isinstance(current, list):
            stack.append((child, depth + 1) for child in current)


def _payload(result: dict[str, Any]) -> Any:
    kind, value = result.get("type"), result.get("value")
    if kind == "textarea":
        return value.get("text") if isinstance(value, dict) else None
    if kind == "reactcode":
        return value.get("reactcode") if isinstance(value, dict) else None
    return None if kind in NOT_DOCUMENTS else value


def _document_of(entry: dict[str, Any]) -> bytes | None:
    for result in entry.get("result") or []:
        if isinstance(result, dict):
            for text in _strings(_payload(result)):
                document = doclang_bytes(text)
                if document is not None:
                    return document
    return None


def _data_documents(data: Any) -> list[bytes]:
    if not isinstance(data, dict):
        return []
    found: list[bytes] = []
    stack: list[tuple[Any, int, bool]] = [(data, 0, False)]
    visited = 0
    while stack and visited < MAX_NODES:
        current, depth, under = stack.pop()
        visited += 1
        if isinstance(current, str):
            document = doclang_bytes(current) if under else None
            if document is not None and document not in found:
                found.append(document)
        elif depth < MAX_DEPTH and isinstance(current, dict):
            stack.extend(
                (child, depth + 1, under or key in DATA_KEYS)
                for key, child in reversed(tuple(current.items()))
            )
        elif depth < MAX_DEPTH and isinstance(current, list):
            stack.extend((child, depth + 1, under) for child in reversed(current))
    return found


class Source(NamedTuple):
    kind: str
    source_id: Any
    document: bytes


def sources(task: Record) -> Iterator[Source]:
    exported: set[Any] = set()
    found = False
    annotations = task.get("annotations") or task.get("completions") or []
    for index, annotation in enumerate(a for a in annotations if isinstance(a, dict)):
        if annotation.get("was_cancelled") or annotation.get("skipped"):
            continue
        document = _document_of(annotation)
        if document is not None:
            exported.add(annotation.get("id", index))
            found = True
            yield Source("annotation", annotation.get("id", index), document)
    for index, draft in enumerate(task.get("drafts") or []):
        if not isinstance(draft, dict) or draft.get("annotation") in exported - {None}:
            continue
        document = _document_of(draft)
        if document is not None:
            found = True
            yield Source("draft", draft.get("id", index), document)
    for index, prediction in enumerate(task.get("predictions") or []):
        if not isinstance(prediction, dict):
            continue
        document = _document_of(prediction)
        if document is not None:
            found = True
            yield Source("prediction", prediction.get("id", index), document)
    if found:
        return
    documents = _data_documents(task.get("data"))
    if len(documents) == 1:
        yield Source("data", "", documents[0])
    else:
        for index, document in enumerate(documents, start=1):
            yield Source("data", index, document)


def archive_name(task_id: Any, source: Source) -> str:
    if source.kind == "data":
        suffix = f"-{source.source_id}" if source.source_id != "" else ""
        return f"task-{task_id}-data{suffix}.dclx"
    return f"task-{task_id}-{source.kind}-{source.source_id}.dclx"


def image_keys(label_config: str) -> tuple[str | None, str | None]:
    """(single image key, image list key) from the config's `<Image>` tags."""
    single = listed = None
    try:
        root = defused_fromstring(
            label_config, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except Exception:
        return None, None
    for tag in root.iter("Image"):
        if tag.get("valueList"):
            listed = tag.get("valueList", "").lstrip("$")
        elif tag.get("value"):
            single = tag.get("value", "").lstrip("$")
    return single, listed


def page_urls(task: Record, image_key: str, list_key: str | None) -> list[str]:
    data = task.get("data") or {}

    def url(raw: Any) -> str | None:
        raw = raw.get("url") if isinstance(raw, dict) else raw
        return raw if isinstance(raw, str) and raw else None

    if list_key and isinstance(data.get(list_key), list):
        return [u for u in (url(item) for item in data[list_key]) if u]
    single = url(data.get(image_key))
    return [single] if single else []


def _extension(path: str, allowed: set[str], default: str) -> str:
    extension = posixpath.splitext(path)[1].lower()
    extension = ".jpg" if extension == ".jpe" else extension
    if extension in allowed:
        return extension
    guess = (mimetypes.guess_extension(mimetypes.guess_type(path)[0] or "") or "").lower()
    return guess if guess in allowed else default


def _save(fetcher: MediaFetcher, url: str, target: Path) -> Path | None:
    """`url`'s bytes at `target` (a data: URL is decoded); None if it cannot be had."""
    if url.startswith("data:"):
        header, _, encoded = url.partition(",")
        if ";base64" not in header.lower() or not encoded:
            return None
        try:
            target.write_bytes(base64.b64decode(encoded, validate=False))
        except (binascii.Error, ValueError):
            return None
        return target
    try:
        with fetcher.fetch(url) as fetched, target.open("wb") as out:
            for chunk in fetched.chunks():
                out.write(chunk)
    except MediaUnavailable:
        return None
    return target


def _page_extension(url: str) -> str:
    if url.startswith("data:"):
        mime = url[5:].split(";", 1)[0].strip()
        guess = (mimetypes.guess_extension(mime) or "").lower()
        guess = ".jpg" if guess == ".jpe" else guess
        return guess if guess in IMAGE_EXTENSIONS else ".png"
    return _extension(urlparse(url).path, IMAGE_EXTENSIONS, ".png")


def _asset_path(uri: str) -> str:
    parsed = urlparse(uri)
    candidates = [parsed.path, *(v for k, v in parse_qsl(parsed.query) if k == "d")]
    return next((path for path in candidates if posixpath.splitext(path)[1]), parsed.path)


def _stage_assets(
    document: bytes, fetcher: MediaFetcher, folder: Path
) -> tuple[bytes, dict[str, str]]:
    from lxml import etree

    root = etree.fromstring(document, parser=_parser())
    assets: dict[str, str] = {}
    used: set[str] = set()
    for element in root.iter():
        if not isinstance(element.tag, str) or etree.QName(element).localname != "src":
            continue
        uri = element.get("uri") or ""
        parsed = urlparse(uri)
        if not (
            parsed.scheme in ("http", "https") or (not parsed.scheme and uri.startswith("/data/"))
        ):
            continue
        path = _asset_path(uri)
        extension = posixpath.splitext(path)[1].lower()
        if extension and extension not in ASSET_EXTENSIONS and extension != ".jpe":
            continue
        extension = _extension(path, ASSET_EXTENSIONS, ".png")
        stem = Path(posixpath.basename(path)).stem or "image"
        candidate, index = f"assets/{stem}{extension}", 2
        while candidate in used:
            candidate, index = f"assets/{stem}-{index}{extension}", index + 1
        used.add(candidate)
        saved = _save(fetcher, uri, folder / f"{len(used)}{extension}")
        if saved is None:
            continue
        assets[candidate.removeprefix("assets/")] = str(saved)
        element.set("uri", candidate)
    if not assets:
        return document, {}
    return etree.tostring(root, encoding="utf-8"), assets


def write_doclang(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    from doclang import pack

    single, listed = image_keys(context.label_config)
    fetcher = context.media if context.fetches_media("optional") else None
    archive = ZipStream()
    for task in records:
        found = list(sources(task))
        if not found:
            continue
        with tempfile.TemporaryDirectory() as folder:
            pages: dict[int, str] = {}
            if fetcher is not None:
                urls = page_urls(task, single or "image", listed)
                for number, url in enumerate(urls, start=1):
                    saved = _save(
                        fetcher, url, Path(folder) / f"page-{number}{_page_extension(url)}"
                    )
                    if saved is not None:
                        pages[number] = str(saved)
            for index, source in enumerate(found):
                work = Path(folder) / f"source-{index}"
                (work / "assets").mkdir(parents=True)
                document, assets = source.document, dict[str, str]()
                if fetcher is not None:
                    document, assets = _stage_assets(document, fetcher, work / "assets")
                (work / "document.dclg").write_bytes(document)
                output = pack(
                    work / "document.dclg",
                    output=work / "out.dclx",
                    pages=pages or None,
                    assets=assets or None,
                    validate=False,
                )
                yield from archive.entry(archive_name(task.get("id"), source), _file(output))
    yield from archive.close()


def _file(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(256 * 1024):
            yield chunk


DOCLANG = register(
    ExportFormat(
        name="DOCLANG",
        title="DocLang (.dclx)",
        link="https://github.com/doclang-project/doclang/blob/main/spec.md#doclang-archive-format",
        extension="zip",
        fits=fits_doclang,
        write=write_doclang,
        tags=("document", "doclang"),
        order=170,
        media="optional",
    )
)

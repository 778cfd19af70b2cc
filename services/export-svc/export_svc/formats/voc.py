"""Pascal VOC XML: `Annotations/<image>.xml` per annotated item, boxes in pixels, zipped.

Follows Label Studio's converter (`convert_to_voc`): one XML document per converted item
that has boxes, named after the image, sized from the first region's
`original_width`/`original_height`, box corners truncated to whole pixels, the rotation
ignored. The depth is 3 unless the image was fetched (`download_resources`), then it is
the image's channel count and the image is put under `images/`. Later items of the same
image overwrite the file in Label Studio; here the first one (the newest annotation) is
kept and the others are left out, since an archive entry cannot be rewritten.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from typing import Any
from xml.dom.minidom import Document, Element, getDOMImplementation

from export_svc.formats import register
from export_svc.formats._base import ExportContext, ExportFormat, Record
from export_svc.formats._fits import fits_voc
from export_svc.formats._items import Item, items
from export_svc.formats._media import ArchiveMedia
from export_svc.formats._zipstream import ZipStream
from export_svc.formats.coco import image_file_name


def _annotator(item: Item) -> str:
    """The converter's `get_annotator(item, "")`: an expanded user's email, else the id as text."""
    if isinstance(item.completed_by, dict):
        return str(item.completed_by.get("email", ""))
    return str(item.completed_by)


def _child(document: Document, tag: str, text: str, parent: Element) -> None:
    node = document.createElement(tag)
    node.appendChild(document.createTextNode(text))
    parent.appendChild(node)


def voc_document(item: Item, image_name: str, channels: int) -> bytes | None:
    boxes: list[dict[str, Any]] = [v for values in item.output.values() for v in values]
    if not boxes or "original_width" not in boxes[0] or "original_height" not in boxes[0]:
        return None
    width, height = boxes[0]["original_width"], boxes[0]["original_height"]
    implementation = getDOMImplementation()
    assert implementation is not None
    document = implementation.createDocument(None, "annotation", None)
    root = document.documentElement
    assert root is not None
    _child(document, "folder", "images", root)
    _child(document, "filename", image_name, root)
    source = document.createElement("source")
    for tag, text in (
        ("database", "MyDatabase"),
        ("annotation", "COCO2017"),
        ("image", "flickr"),
        ("flickrid", "NULL"),
        ("annotator", _annotator(item)),
    ):
        _child(document, tag, text, source)
    root.appendChild(source)
    owner = document.createElement("owner")
    _child(document, "flickrid", "NULL", owner)
    _child(document, "name", "Label Studio", owner)
    root.appendChild(owner)
    size = document.createElement("size")
    _child(document, "width", str(width), size)
    _child(document, "height", str(height), size)
    _child(document, "depth", str(channels), size)
    root.appendChild(size)
    _child(document, "segmented", "0", root)
    for box in boxes:
        key = (
            "rectanglelabels" if "rectanglelabels" in box else "labels" if "labels" in box else None
        )
        if key is None or not box[key]:
            continue
        x = int(box["x"] / 100 * width)
        y = int(box["y"] / 100 * height)
        w = int(box["width"] / 100 * width)
        h = int(box["height"] / 100 * height)
        node = document.createElement("object")
        _child(document, "name", str(box[key][0]), node)
        _child(document, "pose", "Unspecified", node)
        _child(document, "truncated", "0", node)
        _child(document, "difficult", "0", node)
        corners = document.createElement("bndbox")
        for tag, number in (("xmin", x), ("ymin", y), ("xmax", x + w), ("ymax", y + h)):
            _child(document, tag, str(number), corners)
        node.appendChild(corners)
        root.appendChild(node)
    buffer = io.StringIO()
    document.writexml(buffer, addindent="", newl="\n", encoding="utf-8")
    return buffer.getvalue().encode()


def write_voc(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    data_key = context.first_data_key()
    archive = ZipStream()
    media = (
        ArchiveMedia(archive, context.media)
        if context.media is not None and context.fetches_media("optional")
        else None
    )
    written: set[str] = set()
    for record in records:
        for item in items(record, context.parsed):
            reference = item.input.get(data_key)
            if not isinstance(reference, str) or not reference:
                continue
            image_path = image_file_name(reference)
            channels = 3
            if media is not None:
                facts, entry = media.put(reference, image_path)
                yield from entry
                if facts is not None and facts.channels:
                    channels = facts.channels
            image_name = os.path.basename(image_path)
            name = f"Annotations/{os.path.splitext(image_name)[0]}.xml"
            if name in written:
                continue
            document = voc_document(item, image_name, channels)
            if document is None:
                continue
            written.add(name)
            yield from archive.entry(name, [document])
    yield from archive.close()


VOC = register(
    ExportFormat(
        name="VOC",
        title="Pascal VOC XML",
        link="https://labelstud.io/guide/export.html#Pascal-VOC-XML",
        extension="zip",
        fits=fits_voc,
        write=write_voc,
        tags=("image segmentation", "object detection"),
        order=80,
        media="optional",
    )
)

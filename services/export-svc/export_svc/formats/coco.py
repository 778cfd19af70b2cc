"""COCO and COCO_WITH_IMAGES: one `result.json` with images, categories and annotations, zipped.

Follows Label Studio's converter: one image entry per converted item, boxes and areas in
pixels of the size the region was drawn on (`original_width`/`original_height`), rotated
boxes turned into their enclosing box, categories from the config's labels (explicit
`category` attributes first). Keypoints (`KeyPointLabels` with `model_index` attributes)
become one `keypoints` annotation per item under a merged `default` category, as the
converter's `process_keypoints_for_coco` writes them. Images are referenced as
`images/<file name>`; COCO_WITH_IMAGES also puts each image in the archive under that name
and takes its size from the file. Images and annotations are spooled to temporary files as
they stream by, since the categories list (which can grow with labels absent from the
config) comes first.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import urlparse

from export_svc.formats import register
from export_svc.formats._base import ExportContext, ExportFormat, Record, dumps
from export_svc.formats._fits import fits_coco_yolo
from export_svc.formats._items import category_catalogue, items
from export_svc.formats._keypoints import (
    coco_keypoints_annotation,
    keypoint_order,
    skeleton_problem,
    with_keypoint_category,
)
from export_svc.formats._media import ArchiveMedia, reference_file_name
from export_svc.formats._zipstream import ZipStream


def image_file_name(reference: Any) -> str:
    """Where Label Studio's converter would cache the image, relative to the archive.

    A web URL becomes `images/<md5(url)[:8]>__<file name>` (the converter's cache name);
    any other reference (an upload, a bucket URI) keeps its file name under `images/`.
    """
    text = str(reference)
    parsed = urlparse(text)
    name = reference_file_name(text)
    if parsed.scheme in ("http", "https"):
        digest = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[:8]
        return f"images/{digest}__{name}"
    return f"images/{name}"


def enclosing_box(value: dict[str, Any]) -> tuple[float, float, float, float] | None:
    """x, y, width, height in percent; a rotated box becomes the box around it."""
    try:
        x, y = float(value["x"]), float(value["y"])
        w, h = float(value["width"]), float(value["height"])
    except (KeyError, TypeError, ValueError):
        return None
    rotation = float(value.get("rotation") or 0.0)
    if abs(rotation) > 0 and w > 0:
        alpha = math.atan(h / w)
        beta = math.pi * (rotation / 180)
        radius = math.sqrt((w / 2) ** 2 + (h / 2) ** 2)
        x0 = x - radius * (math.cos(math.pi - alpha - beta) - math.cos(math.pi - alpha)) + w / 2
        y0 = y + radius * (math.sin(math.pi - alpha - beta) - math.sin(math.pi - alpha)) + h / 2
        thetas = (
            alpha + beta,
            math.pi - alpha + beta,
            math.pi + alpha + beta,
            2 * math.pi - alpha + beta,
        )
        xs = [x0 + radius * math.cos(t) for t in thetas]
        ys = [y0 + radius * math.sin(t) for t in thetas]
        x, y = min(xs), min(ys)
        w, h = max(xs) - x, max(ys) - y
    return x, y, w, h


def _polygon_area(xs: list[float], ys: list[float]) -> float:
    total = sum(xs[i] * ys[i - 1] - ys[i] * xs[i - 1] for i in range(len(xs)))
    return 0.5 * abs(total)


def _category(value: dict[str, Any]) -> str | None:
    for key in ("rectanglelabels", "polygonlabels", "keypointlabels", "labels"):
        names = value.get(key)
        if names:
            return str(names[0])
    return None


class _Spool:
    """A JSON list written element by element to a temporary file."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the writer)
        self.count = 0

    def add(self, value: Any) -> None:
        self.file.write((b"\n" if self.count == 0 else b",\n") + dumps(value))
        self.count += 1

    def chunks(self) -> Iterator[bytes]:
        self.file.seek(0)
        while chunk := self.file.read(256 * 1024):
            yield chunk


def write_coco(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    return _write_coco(records, context, with_images=False)


def write_coco_with_images(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    return _write_coco(records, context, with_images=True)


def _write_coco(
    records: Iterable[Record], context: ExportContext, *, with_images: bool
) -> Iterator[bytes]:
    categories, by_name = with_keypoint_category(
        *category_catalogue(context.parsed), context.parsed
    )
    order = keypoint_order(context.parsed)
    data_key = context.first_data_key()
    images, annotations = _Spool(), _Spool()
    archive = ZipStream()
    media = ArchiveMedia(archive, context.media) if with_images and context.media else None
    try:
        for record in records:
            for item in items(record, context.parsed):
                reference = item.input.get(data_key)
                size = None
                if media is not None and isinstance(reference, str) and reference:
                    facts, entry = media.put(reference, image_file_name(reference))
                    yield from entry
                    if facts is not None and facts.width and facts.height:
                        size = (facts.width, facts.height)
                _convert_item(
                    reference, item.output, images, annotations, categories, by_name, size, order
                )
        info = {
            "year": datetime.now(UTC).year,
            "version": "1.0",
            "description": "",
            "contributor": "Label Studio",
            "url": "",
            "date_created": str(datetime.now(UTC)),
        }

        def document() -> Iterator[bytes]:
            yield b'{"images":['
            yield from images.chunks()
            yield b'\n],"categories":' + dumps(categories) + b',"annotations":['
            yield from annotations.chunks()
            yield b'\n],"info":' + dumps(info) + b"}\n"

        yield from archive.entry("result.json", document())
        yield from archive.close()
    finally:
        images.file.close()
        annotations.file.close()


def _convert_item(
    reference: Any,
    output: dict[str, list[dict[str, Any]]],
    images: _Spool,
    annotations: _Spool,
    categories: list[dict[str, Any]],
    by_name: dict[str, int],
    size: tuple[int, int] | None,
    keypoint_names: list[str],
) -> None:
    file_name = image_file_name(reference)
    image_id = images.count
    width, height = size if size else (None, None)
    if size:
        images.add({"width": width, "height": height, "id": image_id, "file_name": file_name})
    if not output:
        if not size:
            images.add({"width": None, "height": None, "id": image_id, "file_name": file_name})
        return
    keypoints: list[dict[str, Any]] = []
    for value in (v for values in output.values() for v in values):
        name = _category(value)
        if name is None:
            continue
        if not width or not height:
            if "original_width" not in value or "original_height" not in value:
                continue
            width, height = value["original_width"], value["original_height"]
            images.add({"width": width, "height": height, "id": image_id, "file_name": file_name})
        if name not in by_name:
            by_name[name] = len(categories)
            categories.append({"id": by_name[name], "name": name})
        annotation: dict[str, Any] = {
            "id": annotations.count,
            "image_id": image_id,
            "category_id": by_name[name],
        }
        if "rectanglelabels" in value or "labels" in value:
            box = enclosing_box(value)
            if box is None:
                continue
            x, y, w, h = box
            drawn_w = value.get("original_width", width)
            drawn_h = value.get("original_height", height)
            x, w = x * drawn_w / 100, w * drawn_w / 100
            y, h = y * drawn_h / 100, h * drawn_h / 100
            annotation.update(segmentation=[], bbox=[x, y, w, h], ignore=0, iscrowd=0, area=w * h)
        elif "polygonlabels" in value and value.get("points"):
            points = [(px / 100 * width, py / 100 * height) for px, py in value["points"]]
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            annotation.update(
                segmentation=[[coordinate for point in points for coordinate in point]],
                bbox=[min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)],
                ignore=0,
                iscrowd=0,
                area=_polygon_area(xs, ys),
            )
        elif "keypointlabels" in value:
            keypoints.append(value)
            continue
        else:
            continue
        annotations.add(annotation)
    if keypoints:
        annotations.add(
            coco_keypoints_annotation(
                keypoints,
                keypoint_names,
                annotation_id=annotations.count,
                image_id=image_id,
                by_name=by_name,
            )
        )


COCO = register(
    ExportFormat(
        name="COCO",
        title="COCO",
        link="https://labelstud.io/guide/export.html#COCO",
        extension="zip",
        fits=fits_coco_yolo,
        write=write_coco,
        tags=("image segmentation", "object detection", "keypoints"),
        order=60,
        precheck=skeleton_problem,
    )
)

COCO_WITH_IMAGES = register(
    ExportFormat(
        name="COCO_WITH_IMAGES",
        title="COCO with Images",
        link="https://labelstud.io/guide/export.html#COCO",
        extension="zip",
        fits=fits_coco_yolo,
        write=write_coco_with_images,
        tags=("image segmentation", "object detection", "keypoints"),
        order=70,
        media="always",
        precheck=skeleton_problem,
    )
)

"""YOLO, YOLO_OBB and their `_WITH_IMAGES`: `labels/<image>.txt` per task, `classes.txt`, `notes.json`.

Lines follow Label Studio's converter: `class x_center y_center width height` for boxes,
`class x1 y1 x2 y2 x3 y3 x4 y4` (the rotated box's corners) in OBB, `class x1 y1 x2 y2 ...`
for polygons, all in 0..1; with keypoints in the config, one line per box with its child
keypoints appended as `x y visibility` in `model_index` order. A task gets one label file,
from its newest submitted annotation (Label Studio overwrites the file once per
annotation); a task without annotations gets an empty one, and a second task pointing at
an image of the same file name is left out rather than written twice into the archive.
`_WITH_IMAGES` also puts each image under `images/`; when a bucket image cannot be fetched
its label file is left out too (Label Studio's FIT-2611: no labels without their image).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from export_svc.formats import register
from export_svc.formats._base import ExportContext, ExportFormat, Record, dumps
from export_svc.formats._fits import fits_coco_yolo, fits_yolo_obb
from export_svc.formats._items import Item, category_catalogue, items
from export_svc.formats._keypoints import (
    has_keypoints,
    keypoint_order,
    yolo_keypoint_categories,
    yolo_keypoint_lines,
)
from export_svc.formats._media import ArchiveMedia
from export_svc.formats._zipstream import ZipStream
from export_svc.formats.coco import image_file_name
from export_svc.media.fetch import CLOUD_SCHEMES

TAGS = ("image segmentation", "object detection", "keypoints")
OBB_TAGS = ("image segmentation", "object detection")


def _names(value: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for key in ("rectanglelabels", "polygonlabels", "labels"):
        if value.get(key):
            names.extend(str(name) for name in value[key])
    return names


def obb_corners(value: dict[str, Any]) -> list[tuple[float, float]] | None:
    """The rotated box's four corners in 0..1 (the converter's `convert_annotation_to_yolo_obb`)."""
    needed = ("original_width", "original_height", "x", "y", "width", "height", "rotation")
    if not all(key in value for key in needed):
        return None
    width, height = value["original_width"], value["original_height"]
    x, y = value["x"] / 100 * width, value["y"] / 100 * height
    w, h = value["width"] / 100 * width, value["height"] / 100 * height
    angle = math.radians(value.get("rotation", 0))
    cos, sin = math.cos(angle), math.sin(angle)
    corners = [
        (x, y),
        (x + w * cos, y + w * sin),
        (x + w * cos - h * sin, y + w * sin + h * cos),
        (x - h * sin, y + h * cos),
    ]
    return [(cx / width, cy / height) for cx, cy in corners]


def label_lines(
    item: Item,
    categories: list[dict[str, Any]],
    by_name: dict[str, int],
    *,
    obb: bool = False,
) -> list[str]:
    lines: list[str] = []
    for value in (v for values in item.output.values() for v in values):
        for name in _names(value):
            if name not in by_name:
                by_name[name] = len(categories)
                categories.append({"id": by_name[name], "name": name})
            category = by_name[name]
            if "rectanglelabels" in value or "rectangle" in value or "labels" in value:
                numbers: list[Any]
                if obb:
                    corners = obb_corners(value)
                    if corners is None:
                        continue
                    numbers = [category, *[c for corner in corners for c in corner]]
                else:
                    try:
                        x, y = float(value["x"]), float(value["y"])
                        w, h = float(value["width"]), float(value["height"])
                    except (KeyError, TypeError, ValueError):
                        continue
                    numbers = [category, (x + w / 2) / 100, (y + h / 2) / 100, w / 100, h / 100]
            elif "polygonlabels" in value or "polygon" in value:
                if "points" not in value:
                    continue
                numbers = [category, *[c / 100 for point in value["points"] for c in point]]
            else:
                continue
            lines.append(" ".join(str(number) for number in numbers) + "\n")
    return lines


def _reference(item: Item, data_key: str) -> str | None:
    reference = item.input.get(data_key)
    if isinstance(reference, list):
        reference = reference[-1] if reference else None
    return str(reference) if reference else None


def _write_yolo(
    records: Iterable[Record], context: ExportContext, *, obb: bool, with_images: bool
) -> Iterator[bytes]:
    keypoints = has_keypoints(context.parsed)
    if keypoints:
        categories, by_name = yolo_keypoint_categories(context.parsed)
        order = keypoint_order(context.parsed)
    else:
        categories, by_name = category_catalogue(context.parsed)
        order = []
    data_key = context.first_data_key()
    archive = ZipStream()
    media = ArchiveMedia(archive, context.media) if with_images and context.media else None
    written: set[str] = set()
    for record in records:
        newest = next(iter(items(record, context.parsed, region_ids=keypoints)), None)
        if newest is None:
            continue
        reference = _reference(newest, data_key)
        if not reference:
            continue
        image_name = image_file_name(reference)
        if media is not None:
            facts, entry = media.put(reference, image_name)
            yield from entry
            if facts is None and reference.split("://", 1)[0].lower() in CLOUD_SCHEMES:
                continue
        stem = os.path.splitext(image_name.removeprefix("images/"))[0][: 255 - 4]
        name = f"labels/{stem}.txt"
        if name in written:
            continue
        written.add(name)
        if keypoints and newest.output:
            values = [v for values in newest.output.values() for v in values]
            text = yolo_keypoint_lines(values, categories, order)
        else:
            text = "".join(label_lines(newest, categories, by_name, obb=obb))
        yield from archive.entry(name, [text.encode()])
    yield from archive.entry(
        "classes.txt", ["".join(f"{c['name']}\n" for c in categories).encode()]
    )
    notes = {
        "categories": categories,
        "info": {"year": datetime.now(UTC).year, "version": "1.0", "contributor": "Label Studio"},
    }
    yield from archive.entry("notes.json", [dumps(notes)])
    yield from archive.close()


def write_yolo(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    return _write_yolo(records, context, obb=False, with_images=False)


def write_yolo_with_images(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    return _write_yolo(records, context, obb=False, with_images=True)


def write_yolo_obb(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    return _write_yolo(records, context, obb=True, with_images=False)


def write_yolo_obb_with_images(
    records: Iterable[Record], context: ExportContext
) -> Iterator[bytes]:
    return _write_yolo(records, context, obb=True, with_images=True)


YOLO = register(
    ExportFormat(
        name="YOLO",
        title="YOLO",
        link="https://labelstud.io/guide/export.html#YOLO",
        extension="zip",
        fits=fits_coco_yolo,
        write=write_yolo,
        tags=TAGS,
        order=90,
    )
)

YOLO_WITH_IMAGES = register(
    ExportFormat(
        name="YOLO_WITH_IMAGES",
        title="YOLO with Images",
        link="https://labelstud.io/guide/export.html#YOLO",
        extension="zip",
        fits=fits_coco_yolo,
        write=write_yolo_with_images,
        tags=TAGS,
        order=100,
        media="always",
    )
)

YOLO_OBB = register(
    ExportFormat(
        name="YOLO_OBB",
        title="YOLOv8 OBB",
        link="https://labelstud.io/guide/export.html#YOLO",
        extension="zip",
        fits=fits_yolo_obb,
        write=write_yolo_obb,
        tags=OBB_TAGS,
        order=110,
    )
)

YOLO_OBB_WITH_IMAGES = register(
    ExportFormat(
        name="YOLO_OBB_WITH_IMAGES",
        title="YOLOv8 OBB with Images",
        link="https://labelstud.io/guide/export.html#YOLO",
        extension="zip",
        fits=fits_yolo_obb,
        write=write_yolo_obb_with_images,
        tags=OBB_TAGS,
        order=120,
        media="always",
    )
)

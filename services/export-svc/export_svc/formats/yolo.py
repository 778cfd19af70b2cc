"""YOLO: `labels/<image>.txt` per task (class and normalized box or polygon), `classes.txt`, `notes.json`.

Lines follow Label Studio's converter: `class x_center y_center width height` for boxes,
`class x1 y1 x2 y2 ...` for polygons, all in 0..1. A task gets one label file, from its
newest submitted annotation (Label Studio overwrites the file once per annotation); a
task without annotations gets an empty one, and a second task pointing at an image of the
same file name is left out rather than written twice into the archive.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from export_svc.formats import register
from export_svc.formats._base import ExportContext, ExportFormat, Record, dumps
from export_svc.formats._items import Item, category_catalogue, items
from export_svc.formats._zipstream import ZipStream
from export_svc.formats.coco import fits_image_detection, image_file_name


def _names(value: dict[str, Any]) -> list[str]:
    for key in ("rectanglelabels", "polygonlabels", "labels"):
        if value.get(key):
            return [str(name) for name in value[key]]
    return []


def label_lines(item: Item, categories: list[dict[str, Any]], by_name: dict[str, int]) -> list[str]:
    lines: list[str] = []
    for value in (v for values in item.output.values() for v in values):
        for name in _names(value):
            if name not in by_name:
                by_name[name] = len(categories)
                categories.append({"id": by_name[name], "name": name})
            category = by_name[name]
            if "rectanglelabels" in value or "rectangle" in value or "labels" in value:
                try:
                    x, y = float(value["x"]), float(value["y"])
                    w, h = float(value["width"]), float(value["height"])
                except (KeyError, TypeError, ValueError):
                    continue
                numbers: list[Any] = [
                    category,
                    (x + w / 2) / 100,
                    (y + h / 2) / 100,
                    w / 100,
                    h / 100,
                ]
            elif ("polygonlabels" in value or "polygon" in value) and value.get("points"):
                numbers = [category, *[c / 100 for point in value["points"] for c in point]]
            else:
                continue
            lines.append(" ".join(str(number) for number in numbers) + "\n")
    return lines


def write_yolo(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    categories, by_name = category_catalogue(context.parsed)
    data_key = context.data_key_of(["Image"]) or ""
    archive = ZipStream()
    written: set[str] = set()
    for record in records:
        newest = next(iter(items(record, context.parsed)), None)
        if newest is None:
            continue
        reference = newest.input.get(data_key)
        if isinstance(reference, list):
            reference = reference[-1] if reference else None
        if not reference:
            continue
        stem = os.path.splitext(image_file_name(reference).removeprefix("images/"))[0][: 255 - 4]
        name = f"labels/{stem}.txt"
        if name in written:
            continue
        written.add(name)
        lines = label_lines(newest, categories, by_name)
        yield from archive.entry(name, ["".join(lines).encode()])
    yield from archive.entry(
        "classes.txt", ["".join(f"{c['name']}\n" for c in categories).encode()]
    )
    notes = {
        "categories": categories,
        "info": {"year": datetime.now(UTC).year, "version": "1.0", "contributor": "Label Studio"},
    }
    yield from archive.entry("notes.json", [dumps(notes)])
    yield from archive.close()


YOLO = register(
    ExportFormat(
        name="YOLO",
        title="YOLO",
        link="https://labelstud.io/guide/export.html#YOLO",
        extension="zip",
        fits=fits_image_detection,
        write=write_yolo,
        tags=("image segmentation", "object detection", "keypoints"),
        order=70,
    )
)

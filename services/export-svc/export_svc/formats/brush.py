"""Brush masks: BRUSH_TO_NUMPY (`.npy` arrays), BRUSH_TO_PNG and BRUSH_TO_COCO, zipped.

NUMPY and PNG follow the converter's `brush.convert_task_dir`: one file per brush region,
named `task-<task>-annotation-<annotation>-by-<annotator>-<control>-<labels>-<n>`, holding
the region's alpha channel as a `height x width` uint8 image. BRUSH_TO_COCO follows
`exports/brush_to_coco.py`: `result_coco.json` with one polygon annotation per outer
contour of each mask (OpenCV's `findContours`, as there), polygons and boxes in pixels,
categories numbered from 1 in the order labels appear. Label Studio gives each category a
random colour; here the colour is derived from the label's name, so two exports agree.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PIL import Image

from export_svc.formats import register
from export_svc.formats._base import ExportContext, ExportFormat, Record, dumps
from export_svc.formats._fits import fits_brush
from export_svc.formats._items import Item, items
from export_svc.formats._zipstream import ZipStream
from export_svc.formats.coco import _Spool

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# OpenCV and NumPy (about 55 MiB resident) are imported where masks are decoded, so a
# process that never writes a brush format does not load them.

logger = logging.getLogger(__name__)

TAGS = ("image segmentation",)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp")


def _annotator_part(item: Item) -> str:
    raw = item.completed_by
    email = str(raw.get("email", "")) if isinstance(raw, dict) else str(raw)
    return "".join(c for c in email if c.isalnum() or c in "@.")


def brush_layers(item: Item) -> Iterator[tuple[str, npt.NDArray[np.uint8]]]:
    """(file name without extension, mask) per brush region of the item."""
    from export_svc.formats._rle import alpha_mask

    prefix = f"task-{item.id}-annotation-{item.annotation_id}-by-{_annotator_part(item)}-"
    for from_name, values in item.output.items():
        counters: dict[str, int] = defaultdict(int)
        for value in values:
            kind = str(value.get("type", "")).lower()
            key = "brushlabels" if kind == "brushlabels" else "labels" if kind == "labels" else None
            if key is None or "rle" not in value:
                continue
            name = from_name + "-" + "-".join(value.get(key) or ["no_label"])
            number = counters[name]
            counters[name] += 1
            try:
                mask = alpha_mask(value["rle"], value["original_width"], value["original_height"])
            except (KeyError, ValueError, TypeError) as error:
                logger.warning("brush region of task %s left out: %s", item.id, error)
                continue
            layer = f"{name}-{number}".replace("/", "-").replace("\\", "-")
            yield prefix + layer, mask


def _npy(mask: npt.NDArray[np.uint8]) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, mask)
    return buffer.getvalue()


def _png(mask: npt.NDArray[np.uint8]) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(mask).save(buffer, format="PNG")
    return buffer.getvalue()


def _write_layers(
    records: Iterable[Record], context: ExportContext, *, png: bool
) -> Iterator[bytes]:
    archive = ZipStream()
    for record in records:
        for item in items(record, context.parsed):
            for name, mask in brush_layers(item):
                if png:
                    yield from archive.entry(f"{name}.png", [_png(mask)])
                else:
                    yield from archive.entry(f"{name}.npy", [_npy(mask)])
    yield from archive.close()


def write_brush_numpy(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    return _write_layers(records, context, png=False)


def write_brush_png(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    return _write_layers(records, context, png=True)


# ------------------------------------------------------------------------- BRUSH_TO_COCO


def label_colour(label: str) -> str:
    return "#" + hashlib.md5(label.encode(), usedforsecurity=False).hexdigest()[:6]


def mask_polygons(mask: npt.NDArray[np.uint8]) -> Iterator[tuple[list[int], list[int], int]]:
    """(flat polygon, [x, y, w, h], area) per outer contour of at least three points."""
    import cv2
    import numpy as np

    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    for contour in contours:
        if len(contour) < 3:
            continue
        flat = [int(c) for c in np.asarray(contour).reshape(-1).tolist()]
        box = [int(c) for c in cv2.boundingRect(contour)]
        yield flat, box, int(cv2.contourArea(contour))


def polygon_outline(
    points: list[list[float]], width: int, height: int
) -> tuple[list[int], list[int], int]:
    import cv2
    import numpy as np

    pixels = [[round(x * width / 100), round(y * height / 100)] for x, y in points]
    contour = np.array(pixels, dtype=np.float32).reshape((-1, 1, 2))
    box = [int(c) for c in cv2.boundingRect(contour)]
    return [c for point in pixels for c in point], box, int(cv2.contourArea(contour))


class _BrushCoco:
    def __init__(self) -> None:
        self.images = _Spool()
        self.annotations = _Spool()
        self.categories: list[dict[str, Any]] = []
        self.by_name: dict[str, int] = {}

    def category(self, label: str) -> int:
        if label not in self.by_name:
            self.by_name[label] = len(self.by_name) + 1
            self.categories.append(
                {
                    "id": self.by_name[label],
                    "name": label,
                    "supercategory": "",
                    "color": label_colour(label),
                    "metadata": {},
                }
            )
        return self.by_name[label]

    def add_item(self, item: Item, image_id: int) -> None:
        image_path = next(
            (
                value
                for value in item.input.values()
                if isinstance(value, str) and value.lower().endswith(IMAGE_EXTENSIONS)
            ),
            None,
        )
        if not image_path or not item.output:
            return
        image: dict[str, Any] = {
            "id": image_id,
            "file_name": os.path.basename(image_path),
            "path": image_path,
            "width": None,
            "height": None,
        }
        annotator = (
            str(item.annotator) if not isinstance(item.completed_by, dict) else item.annotator
        )
        found = False
        for value in (v for values in item.output.values() for v in values):
            if image["width"] is None and "original_width" in value:
                image["width"], image["height"] = (
                    value["original_width"],
                    value.get("original_height"),
                )
            key = next(
                (
                    k
                    for k in ("brushlabels", "polygonlabels", "rectanglelabels", "labels")
                    if k in value
                ),
                None,
            )
            if key is None:
                continue
            for label in value[key]:
                category = self.category(label)
                for segmentation, box, area in self._shapes(value, key):
                    self.annotations.add(
                        {
                            "id": self.annotations.count,
                            "image_id": image_id,
                            "category_id": category,
                            "segmentation": segmentation,
                            "area": area,
                            "bbox": box,
                            "iscrowd": 0,
                            "annotator": annotator if annotator is not None else "unknown",
                        }
                    )
                    found = True
        if image["width"] is not None and image["height"] is not None and found:
            self.images.add(image)

    def _shapes(self, value: dict[str, Any], key: str) -> Iterator[tuple[Any, Any, Any]]:
        if "original_width" not in value or "original_height" not in value:
            return
        width, height = int(value["original_width"]), int(value["original_height"])
        if key == "brushlabels" and "rle" in value:
            from export_svc.formats._rle import alpha_mask

            try:
                mask = alpha_mask(value["rle"], width, height)
            except (ValueError, TypeError) as error:
                logger.warning("brush region left out of BRUSH_TO_COCO: %s", error)
                return
            for polygon, box, area in mask_polygons(mask):
                yield [polygon], box, area
        elif key == "polygonlabels" and "points" in value:
            polygon, box, area = polygon_outline(value["points"], width, height)
            yield [polygon], box, area
        elif str(value.get("type", "")).lower() == "rectanglelabels" or key == "labels":
            if not all(k in value for k in ("x", "y", "width", "height")):
                return
            x, y = value["x"] * width / 100, value["y"] * height / 100
            w, h = value["width"] * width / 100, value["height"] * height / 100
            yield [], [x, y, w, h], w * h


def write_brush_coco(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    coco = _BrushCoco()
    try:
        image_id = 0
        for record in records:
            for item in items(record, context.parsed):
                coco.add_item(item, image_id)
                image_id += 1
        info = {
            "year": datetime.now(UTC).year,
            "version": "1.0",
            "description": "Converted from Label Studio",
            "contributor": "Label Studio Converter",
            "date_created": str(datetime.now(UTC)),
        }

        def document() -> Iterator[bytes]:
            yield b'{"images":['
            yield from coco.images.chunks()
            yield b'\n],"annotations":['
            yield from coco.annotations.chunks()
            yield b'\n],"categories":' + dumps(coco.categories) + b',"info":' + dumps(info) + b"}\n"

        archive = ZipStream()
        yield from archive.entry("result_coco.json", document())
        yield from archive.close()
    finally:
        coco.images.file.close()
        coco.annotations.file.close()


BRUSH_TO_NUMPY = register(
    ExportFormat(
        name="BRUSH_TO_NUMPY",
        title="Brush labels to NumPy",
        link="https://labelstud.io/guide/export.html#Brush-labels-to-NumPy-amp-PNG",
        extension="zip",
        fits=fits_brush,
        write=write_brush_numpy,
        tags=TAGS,
        order=130,
    )
)

BRUSH_TO_PNG = register(
    ExportFormat(
        name="BRUSH_TO_PNG",
        title="Brush labels to PNG",
        link="https://labelstud.io/guide/export.html#Brush-labels-to-NumPy-amp-PNG",
        extension="zip",
        fits=fits_brush,
        write=write_brush_png,
        tags=TAGS,
        order=140,
    )
)

BRUSH_TO_COCO = register(
    ExportFormat(
        name="BRUSH_TO_COCO",
        title="Brush labels to COCO",
        link="https://labelstud.io/guide/export.html#COCO",
        extension="zip",
        fits=fits_brush,
        write=write_brush_coco,
        tags=("image segmentation", "brush annotations"),
        order=160,
    )
)

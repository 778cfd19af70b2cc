"""Which labeling configs each format fits: Label Studio's converter rules, one predicate per family.

They mirror `label_studio_sdk.converter.Converter._get_supported_formats` (what Label
Studio's `/export/formats` marks enabled), quirks included: a config with more than one
data key fits only the tabular formats (and DocLang); `PolygonLabels`/`KeyPointLabels` next
to a `Labels` control fit the image formats even without an `Image`; keypoints without
rectangles rule out COCO and YOLO but not YOLO OBB. `tests/test_parity.py` checks
these predicates against the converter itself, config by config.
"""

from __future__ import annotations

from export_svc.formats._base import ConfigShape

DOCUMENT_CONTROLS = frozenset({"TextArea", "ReactCode", "CustomInterface"})


def single_source(shape: ConfigShape) -> bool:
    """One data key: only then does Label Studio offer anything beyond the tabular formats."""
    return shape.data_key_count <= 1


def fits_conll(shape: ConfigShape) -> bool:
    return single_source(shape) and "Text" in shape.objects and "Labels" in shape.controls


def _image_shapes(shape: ConfigShape) -> bool:
    controls = shape.controls
    if shape.has_value_list:
        return False
    if "Image" in shape.objects and controls & {
        "RectangleLabels",
        "PolygonLabels",
        "KeyPointLabels",
    }:
        return True
    return "Labels" in controls and bool(
        controls & {"Rectangle", "PolygonLabels", "KeyPointLabels"}
    )


def fits_coco_yolo(shape: ConfigShape) -> bool:
    """COCO, YOLO and their `_WITH_IMAGES`: keypoints need rectangles to hang on."""
    keypoints_alone = "KeyPointLabels" in shape.controls and "RectangleLabels" not in shape.controls
    return single_source(shape) and _image_shapes(shape) and not keypoints_alone


def fits_yolo_obb(shape: ConfigShape) -> bool:
    video_timeline = "Video" in shape.objects and "TimelineLabels" in shape.controls
    return single_source(shape) and _image_shapes(shape) and not video_timeline


def fits_voc(shape: ConfigShape) -> bool:
    controls = shape.controls
    boxes = "RectangleLabels" in controls or {"Rectangle", "Labels"} <= controls
    return single_source(shape) and not shape.has_value_list and "Image" in shape.objects and boxes


def fits_brush(shape: ConfigShape) -> bool:
    controls = shape.controls
    brushes = "BrushLabels" in controls or {"Brush", "Labels"} <= controls
    return single_source(shape) and "Image" in shape.objects and brushes


def fits_asr(shape: ConfigShape) -> bool:
    audio = bool(shape.objects & {"Audio", "AudioPlus"})
    return single_source(shape) and audio and "TextArea" in shape.controls


def fits_doclang(shape: ConfigShape) -> bool:
    """DocLang reads documents out of text results, whatever the number of data keys."""
    return bool(shape.controls & DOCUMENT_CONTROLS)

"""Keypoints in COCO and YOLO, as Label Studio's converter (`converter/keypoints.py`) writes them.

The order of a skeleton's points is the `model_index` attribute of each `KeyPointLabels`
label. COCO merges every keypoint label into one `default` category carrying that list;
YOLO gives each rectangle label a category and appends, after a box, its child keypoints
(`parentID`) as `x y visibility` triples in skeleton order.
"""

from __future__ import annotations

from typing import Any

from labelops_common.http.errors import ValidationFailed


def has_keypoints(parsed: dict[str, Any]) -> bool:
    return any(info.get("type") == "KeyPointLabels" for info in parsed.values())


def _keypoint_labels(parsed: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for info in parsed.values():
        if info.get("type") == "KeyPointLabels":
            names.extend(info.get("labels") or [])
    return list(dict.fromkeys(names))


def keypoint_order(parsed: dict[str, Any]) -> list[str]:
    """Keypoint label names by `model_index` (labels without one are not in the skeleton)."""
    attrs: dict[str, dict[str, Any]] = {}
    for info in parsed.values():
        if info.get("type") == "KeyPointLabels":
            attrs.update(info.get("labels_attrs") or {})
    pairs: list[tuple[int, str]] = []
    used: set[int] = set()
    for name, label_attrs in attrs.items():
        try:
            index = int(label_attrs.get("model_index"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if index in used:
            continue
        pairs.append((index, name))
        used.add(index)
    return [name for _, name in sorted(pairs)]


def with_keypoint_category(
    categories: list[dict[str, Any]], by_name: dict[str, int], parsed: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """COCO's categories with every keypoint label folded into one `default` category."""
    keypoint_names = _keypoint_labels(parsed)
    if not keypoint_names:
        return categories, by_name
    kept = [dict(category) for category in categories if category["name"] not in keypoint_names]
    mapping = {category["name"]: category["id"] for category in kept}
    numeric = [category["id"] for category in kept if isinstance(category["id"], int)]
    merged = (max(numeric) + 1) if numeric else 0
    kept.append(
        {
            "id": merged,
            "name": "default",
            "supercategory": "default",
            "keypoints": keypoint_names,
            "skeleton": [],
        }
    )
    mapping.update(dict.fromkeys(keypoint_names, merged))
    return kept, mapping


#: Why a keypoint config cannot be written (Label Studio's converter fails the same way).
NO_SKELETON = (
    "Keypoints need a model_index on each KeyPointLabels label "
    '(<Label value="nose" model_index="0"/>) to be exported.'
)


def skeleton_problem(parsed: dict[str, Any]) -> str | None:
    """`ExportFormat.precheck` of COCO and YOLO: keypoints without a skeleton order."""
    return NO_SKELETON if has_keypoints(parsed) and not keypoint_order(parsed) else None


def require_skeleton(order: list[str]) -> None:
    if not order:
        raise ValidationFailed({"label_config": [NO_SKELETON]})


def coco_keypoints_annotation(
    values: list[dict[str, Any]],
    order: list[str],
    *,
    annotation_id: int,
    image_id: int,
    by_name: dict[str, int],
) -> dict[str, Any]:
    require_skeleton(order)
    points = [0] * (len(order) * 3)
    for value in values:
        width, height = value["original_width"], value["original_height"]
        x, y = value["x"] / 100 * width, value["y"] / 100 * height
        labels = value.get("keypointlabels") or []
        visibility = 2 if labels else 0
        for label in labels:
            if label in order:
                index = order.index(label)
                points[3 * index] = round(x)
                points[3 * index + 1] = round(y)
                points[3 * index + 2] = visibility
    visible = [i for i in range(len(order)) if points[3 * i + 2] > 0]
    if visible:
        xs = [points[3 * i] for i in visible]
        ys = [points[3 * i + 1] for i in visible]
        bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
    else:
        bbox = [0, 0, 0, 0]
    return {
        "id": annotation_id,
        "image_id": image_id,
        "category_id": by_name.get(order[0], 0),
        "keypoints": points,
        "num_keypoints": len(visible),
        "bbox": bbox,
        "iscrowd": 0,
    }


def yolo_keypoint_categories(parsed: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    keypoint_names = _keypoint_labels(parsed)
    boxes: list[str] = []
    for info in parsed.values():
        if info.get("type") == "RectangleLabels":
            boxes.extend(info.get("labels") or [])
    boxes = list(dict.fromkeys(boxes))
    categories = [
        {"id": index, "name": label, "keypoints": keypoint_names}
        for index, label in enumerate(boxes)
    ]
    return categories, {label: index for index, label in enumerate(boxes)}


def yolo_keypoint_lines(
    values: list[dict[str, Any]], categories: list[dict[str, Any]], order: list[str]
) -> str:
    """A label file's text: one line per box, its keypoints after it (no final newline)."""
    classes = {category["name"]: category["id"] for category in categories}
    boxes: dict[Any, dict[str, Any]] = {}
    for value in values:
        if str(value.get("type", "")).lower() != "rectanglelabels":
            continue
        names = value.get("rectanglelabels") or []
        if not names or classes.get(names[0]) is None:
            continue
        x, y = value["x"] / 100.0, value["y"] / 100.0
        w, h = value["width"] / 100.0, value["height"] / 100.0
        boxes[value.get("id")] = {
            "numbers": [classes[names[0]], x + w / 2.0, y + h / 2.0, w, h],
            "points": {},
        }
    for value in values:
        if str(value.get("type", "")).lower() != "keypointlabels":
            continue
        parent = value.get("parentID")
        names = value.get("keypointlabels") or []
        if parent not in boxes or not names:
            continue
        boxes[parent]["points"][names[0]] = (value["x"] / 100.0, value["y"] / 100.0, 2)
    lines = []
    for box in boxes.values():
        numbers = list(box["numbers"])
        for name in order:
            numbers.extend(box["points"].get(name, (0.0, 0.0, 0)))
        lines.append(" ".join(str(number) for number in numbers))
    return "\n".join(lines)

"""Label Studio's converter view of a task: one item per submitted annotation, newest first.

JSON_MIN, CSV, TSV, CONLL2003, COCO and YOLO all start from these items (the converter's
`annotation_result_from_task`): a task without annotations gives one empty item, a task
whose annotations were all skipped gives none, and each region's value is tagged with its
control's type and the image size it was drawn on.
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from export_svc.formats._base import Record


@dataclass
class Item:
    id: int
    input: dict[str, Any]
    output: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    completed_by: Any = None
    annotation_id: int | None = None
    created_at: str | None = None
    updated_at: str | None = None
    lead_time: float | None = None

    @property
    def annotator(self) -> Any:
        """Label Studio's `get_annotator(item, int_id=True)`: an id, or an expanded user's email."""
        if isinstance(self.completed_by, dict):
            return self.completed_by.get("email")
        return self.completed_by


def items(record: Record, parsed: dict[str, Any], *, region_ids: bool = False) -> Iterator[Item]:
    """The converter's items of one task; `region_ids` adds each region's `id` and `parentID`
    (the converter does so for keypoint configs, to hang keypoints on their boxes)."""
    annotations = record.get("annotations") or []
    data = record.get("data") or {}
    if not annotations:
        yield Item(id=record["id"], input=data)
        return
    submitted = [a for a in annotations if not (a.get("was_cancelled") or a.get("skipped"))]
    submitted.sort(key=lambda a: a.get("created_at") or "", reverse=True)
    for annotation in submitted:
        outputs: dict[str, list[dict[str, Any]]] = {}
        for region in annotation.get("result") or []:
            if not isinstance(region, dict):
                continue
            from_name = region.get("from_name")
            if not from_name:
                continue
            if from_name in parsed:
                kind = parsed[from_name]["type"]
            elif not parsed:
                kind = region.get("type") or "unknown"
            else:
                continue
            value = deepcopy(region.get("value") or {})
            value["type"] = kind
            for size in ("original_width", "original_height"):
                if size in region:
                    value[size] = region[size]
            if region_ids:
                value["id"] = region.get("id")
                value["parentID"] = region.get("parentID")
            outputs.setdefault(from_name, []).append(value)
        yield Item(
            id=record["id"],
            input=data,
            output=outputs,
            completed_by=annotation.get("completed_by"),
            annotation_id=annotation.get("id"),
            created_at=annotation.get("created_at"),
            updated_at=annotation.get("updated_at"),
            lead_time=annotation.get("lead_time"),
        )


def prettify(values: list[dict[str, Any]]) -> Any:
    """A single choice or text becomes a scalar; anything else stays a list of value dicts."""
    out: list[Any] = []
    kind = None
    for value in values:
        value = dict(value)
        kind = value.pop("type", None)
        if kind == "Choices" and len(value.get("choices") or []) == 1:
            out.append(value["choices"][0])
        elif kind == "TextArea" and len(value.get("text") or []) == 1:
            out.append(value["text"][0])
        else:
            out.append(value)
    return out[0] if kind in ("Choices", "TextArea") and len(out) == 1 else out


def category_catalogue(parsed: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Label Studio's label → category id: explicit `category` attributes first, the rest sorted."""
    labels: set[str] = set()
    categories: list[dict[str, Any]] = []
    by_name: dict[str, int] = {}
    for info in parsed.values():
        labels |= set(info.get("labels") or [])
        for label, attrs in (info.get("labels_attrs") or {}).items():
            raw = attrs.get("category")
            if raw is None:
                continue
            try:
                category_id = int(raw)
            except (TypeError, ValueError):
                continue
            categories.append({"id": category_id, "name": label})
            by_name[label] = category_id
    used = set(by_name.values())
    free = (number for number in range(len(labels) + len(used) + 1) if number not in used)
    for label, number in zip(sorted(labels - set(by_name)), free, strict=False):
        categories.append({"id": number, "name": label})
        by_name[label] = number
    return categories, by_name

"""How much two annotations of one task agree, per control of the labeling config.

Pure functions over annotation results (no database), so the hand calculations in the
tests check exactly what the write path stores. The metrics, by control type (Label
Studio's agreement metrics are the reference):

* `choices`, `rating`, `number`, `taxonomy`: exact match. The control's value in each
  annotation (the set of choices, the rating, the number, the set of taxonomy paths) is
  compared whole: 1 when equal, 0 when not or when only one annotation has a value.
* `rectanglelabels`, `polygonlabels`: matched regions. Every pair of regions with the same
  labels is scored by IoU; pairs are matched greedily, highest IoU first, each region used
  once, and a pair counts as a match when its IoU is at least the project's
  `agreement_iou_threshold` (default 0.5). Score = 2 x matches / (regions of A + regions
  of B), the F1 of the matching, symmetric in A and B. Rectangles (rotated ones too) are
  exact; a polygon is clipped against the other's convex hull, exact when that one is
  convex (most annotation polygons are) and an approximation otherwise.
* `labels` (spans on text, `start`/`end` offsets): character overlap per label. For every
  label, the characters A covers with it and those B covers with it; score =
  sum over labels of |A and B| / sum over labels of |A or B| (characters in both / in either).

A control neither annotation uses is left out; a pair's score is the mean over the
controls either uses; two annotations that use no scored control agree fully (1.0), as
both say "nothing here". Controls of other types (text areas, per-region controls) are
not scored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from labelops_common.labelconfig import LabelConfig

EXACT_MATCH_TYPES = frozenset({"choices", "rating", "number", "taxonomy"})
REGION_TYPES = frozenset({"rectanglelabels", "polygonlabels"})
SPAN_TYPES = frozenset({"labels"})
SCORED_TYPES = EXACT_MATCH_TYPES | REGION_TYPES | SPAN_TYPES

Point = tuple[float, float]


@dataclass(frozen=True)
class ScoredControl:
    name: str
    type: str


def scored_controls(config: LabelConfig | None) -> list[ScoredControl]:
    """The config's controls that have a metric, in config order."""
    if config is None:
        return []
    return [
        ScoredControl(name=name, type=control.type)
        for name, control in config.controls.items()
        if control.type in SCORED_TYPES and not control.per_region
    ]


def _regions(result: Any, control: ScoredControl) -> list[dict[str, Any]]:
    if not isinstance(result, list):
        return []
    return [
        region
        for region in result
        if isinstance(region, dict)
        and region.get("from_name") == control.name
        and str(region.get("type", "")).lower() == control.type
        and isinstance(region.get("value"), dict)
    ]


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(sorted((_hashable(item) for item in value), key=repr))
    if isinstance(value, dict):
        return tuple(sorted((key, _hashable(item)) for key, item in value.items()))
    return value


def exact_value(result: Any, control: ScoredControl) -> Any:
    """The control's whole value in a result (None when the result has none)."""
    values = [
        _hashable(region["value"].get(control.type))
        for region in _regions(result, control)
        if region["value"].get(control.type) is not None
    ]
    if not values:
        return None
    return values[0] if len(values) == 1 else tuple(sorted(values, key=repr))


def exact_match(a: Any, b: Any, control: ScoredControl) -> float | None:
    left, right = exact_value(a, control), exact_value(b, control)
    if left is None and right is None:
        return None
    return 1.0 if left == right else 0.0


# ------------------------------------------------------------------------------ regions


def _labels_of(region: dict[str, Any], control: ScoredControl) -> tuple[str, ...]:
    labels = region["value"].get(control.type) or []
    return tuple(sorted(str(label) for label in labels)) if isinstance(labels, list) else ()


def _rectangle(value: dict[str, Any]) -> list[Point] | None:
    try:
        x, y = float(value["x"]), float(value["y"])
        width, height = float(value["width"]), float(value["height"])
    except (KeyError, TypeError, ValueError):
        return None
    angle = math.radians(float(value.get("rotation") or 0.0))
    cos, sin = math.cos(angle), math.sin(angle)
    # Label Studio rotates a rectangle about its top-left corner.
    corners = [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)]
    return [(x + dx * cos - dy * sin, y + dx * sin + dy * cos) for dx, dy in corners]


def _polygon(value: dict[str, Any]) -> list[Point] | None:
    points = value.get("points")
    if not isinstance(points, list) or len(points) < 3:
        return None
    try:
        return [(float(point[0]), float(point[1])) for point in points]
    except (TypeError, ValueError, IndexError):
        return None


def _area(polygon: Sequence[Point]) -> float:
    if len(polygon) < 3:
        return 0.0
    total = 0.0
    for (x1, y1), (x2, y2) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2.0


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _convex_hull(points: Iterable[Point]) -> list[Point]:
    """Counter-clockwise hull (Andrew's monotone chain)."""
    ordered = sorted(set(points))
    if len(ordered) < 3:
        return ordered
    lower: list[Point] = []
    for point in ordered:
        while len(lower) >= 2 and _cross(lower[-2], lower[-1], point) <= 0:
            lower.pop()
        lower.append(point)
    upper: list[Point] = []
    for point in reversed(ordered):
        while len(upper) >= 2 and _cross(upper[-2], upper[-1], point) <= 0:
            upper.pop()
        upper.append(point)
    return lower[:-1] + upper[:-1]


def _clip(subject: Sequence[Point], clipper: Sequence[Point]) -> list[Point]:
    """Sutherland-Hodgman: `subject` cut by the convex, counter-clockwise `clipper`."""
    output = list(subject)
    for edge_start, edge_end in zip(clipper, [*clipper[1:], clipper[0]], strict=True):
        if not output:
            break
        points, output = output, []
        for current, following in zip(points, [*points[1:], points[0]], strict=True):
            current_in = _cross(edge_start, edge_end, current) >= 0
            following_in = _cross(edge_start, edge_end, following) >= 0
            if current_in:
                output.append(current)
            if current_in != following_in:
                output.append(_crossing(current, following, edge_start, edge_end))
    return output


def _crossing(p1: Point, p2: Point, q1: Point, q2: Point) -> Point:
    dx, dy = p2[0] - p1[0], p2[1] - p1[1]
    ex, ey = q2[0] - q1[0], q2[1] - q1[1]
    denominator = dx * ey - dy * ex
    if denominator == 0:
        return p2
    t = ((q1[0] - p1[0]) * ey - (q1[1] - p1[1]) * ex) / denominator
    return (p1[0] + t * dx, p1[1] + t * dy)


def iou(a: Sequence[Point], b: Sequence[Point]) -> float:
    area_a, area_b = _area(a), _area(b)
    if area_a <= 0 or area_b <= 0:
        return 0.0
    hull = _convex_hull(b)
    if len(hull) < 3:
        return 0.0
    inter = _area(_clip(a, hull))
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


def _shapes(result: Any, control: ScoredControl) -> list[tuple[tuple[str, ...], list[Point]]]:
    shapes = []
    for region in _regions(result, control):
        value = region["value"]
        shape = _rectangle(value) if control.type == "rectanglelabels" else _polygon(value)
        if shape is not None:
            shapes.append((_labels_of(region, control), shape))
    return shapes


def region_match(a: Any, b: Any, control: ScoredControl, *, iou_threshold: float) -> float | None:
    left, right = _shapes(a, control), _shapes(b, control)
    if not left and not right:
        return None
    candidates = []
    for i, (label_a, shape_a) in enumerate(left):
        for j, (label_b, shape_b) in enumerate(right):
            if label_a == label_b:
                overlap = iou(shape_a, shape_b)
                if overlap >= iou_threshold and overlap > 0:
                    candidates.append((overlap, i, j))
    used_a: set[int] = set()
    used_b: set[int] = set()
    matches = 0
    for _overlap, i, j in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            matches += 1
    return 2.0 * matches / (len(left) + len(right))


# ------------------------------------------------------------------------------ spans


def _merged(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _length(intervals: list[tuple[int, int]]) -> int:
    return sum(end - start for start, end in intervals)


def _intersection(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    total, i, j = 0, 0, 0
    while i < len(a) and j < len(b):
        low, high = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        total += max(0, high - low)
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def _spans(result: Any, control: ScoredControl) -> dict[str, list[tuple[int, int]]]:
    by_label: dict[str, list[tuple[int, int]]] = {}
    for region in _regions(result, control):
        value = region["value"]
        try:
            start, end = int(value["start"]), int(value["end"])
        except (KeyError, TypeError, ValueError):
            continue
        if end <= start:
            continue
        for label in _labels_of(region, control):
            by_label.setdefault(label, []).append((start, end))
    return {label: _merged(intervals) for label, intervals in by_label.items()}


def span_overlap(a: Any, b: Any, control: ScoredControl) -> float | None:
    left, right = _spans(a, control), _spans(b, control)
    if not left and not right:
        return None
    intersection = union = 0
    for label in left.keys() | right.keys():
        spans_a, spans_b = left.get(label, []), right.get(label, [])
        common = _intersection(spans_a, spans_b)
        intersection += common
        union += _length(spans_a) + _length(spans_b) - common
    return intersection / union if union else 0.0


# ------------------------------------------------------------------------------ pairs, tasks


def control_score(a: Any, b: Any, control: ScoredControl, *, iou_threshold: float) -> float | None:
    if control.type in EXACT_MATCH_TYPES:
        return exact_match(a, b, control)
    if control.type in REGION_TYPES:
        return region_match(a, b, control, iou_threshold=iou_threshold)
    return span_overlap(a, b, control)


@dataclass(frozen=True)
class PairScore:
    annotator_a: int
    annotator_b: int
    score: float
    #: Control name → score, for the controls either annotation uses.
    controls: dict[str, float]


def pair_score(
    a: Any, b: Any, controls: Sequence[ScoredControl], *, iou_threshold: float
) -> tuple[float, dict[str, float]]:
    per_control: dict[str, float] = {}
    for control in controls:
        score = control_score(a, b, control, iou_threshold=iou_threshold)
        if score is not None:
            per_control[control.name] = score
    if not per_control:
        return 1.0, per_control
    return sum(per_control.values()) / len(per_control), per_control


@dataclass(frozen=True)
class TaskScore:
    #: Mean over annotator pairs; None with fewer than two annotators.
    agreement: float | None
    pairs: list[PairScore]
    #: Control name → mean over pairs of that control's score.
    controls: dict[str, float]


def task_score(
    results: dict[int, Any], controls: Sequence[ScoredControl], *, iou_threshold: float
) -> TaskScore:
    """`results`: annotator id → that annotator's result on the task."""
    pairs = []
    for annotator_a, annotator_b in combinations(sorted(results), 2):
        score, per_control = pair_score(
            results[annotator_a], results[annotator_b], controls, iou_threshold=iou_threshold
        )
        pairs.append(PairScore(annotator_a, annotator_b, score, per_control))
    if not pairs:
        return TaskScore(agreement=None, pairs=[], controls={})
    sums: dict[str, list[float]] = {}
    for pair in pairs:
        for name, score in pair.controls.items():
            sums.setdefault(name, []).append(score)
    return TaskScore(
        agreement=sum(pair.score for pair in pairs) / len(pairs),
        pairs=pairs,
        controls={name: sum(scores) / len(scores) for name, scores in sums.items()},
    )

"""The agreement metrics against hand calculations, written out with their numbers."""

from __future__ import annotations

from typing import Any

import krippendorff
import numpy as np
import pytest
from labelops_common.labelconfig import parse_label_config
from task_svc.agreement import metrics

CONFIG = parse_label_config(
    """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Car"/><Label value="Person"/>
  </RectangleLabels>
  <PolygonLabels name="outline" toName="image"><Label value="Road"/></PolygonLabels>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
  <Rating name="stars" toName="text"/>
  <TextArea name="note" toName="text"/>
</View>"""
)
CONTROLS = {control.name: control for control in metrics.scored_controls(CONFIG)}


def box(x: float, y: float, w: float, h: float, label: str, **extra: Any) -> dict[str, Any]:
    value = {"x": x, "y": y, "width": w, "height": h, "rectanglelabels": [label], **extra}
    return {"from_name": "box", "to_name": "image", "type": "rectanglelabels", "value": value}


def span(start: int, end: int, label: str) -> dict[str, Any]:
    value = {"start": start, "end": end, "labels": [label]}
    return {"from_name": "ner", "to_name": "text", "type": "labels", "value": value}


def choice(*values: str) -> dict[str, Any]:
    value = {"choices": list(values)}
    return {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": value}


def stars(rating: int) -> dict[str, Any]:
    return {"from_name": "stars", "to_name": "text", "type": "rating", "value": {"rating": rating}}


def score(a: list[Any], b: list[Any], threshold: float = 0.5) -> tuple[float, dict[str, float]]:
    return metrics.pair_score(a, b, list(CONTROLS.values()), iou_threshold=threshold)


def test_only_controls_with_a_metric_are_scored() -> None:
    assert sorted((c.name, c.type) for c in CONTROLS.values()) == [
        ("box", "rectanglelabels"),
        ("ner", "labels"),
        ("outline", "polygonlabels"),
        ("sentiment", "choices"),
        ("stars", "rating"),
    ]


def test_choices_are_an_exact_match_of_the_whole_set() -> None:
    assert score([choice("Positive")], [choice("Positive")]) == (1.0, {"sentiment": 1.0})
    assert score([choice("Positive")], [choice("Negative")]) == (0.0, {"sentiment": 0.0})
    # A multi-choice answer matches only as the same set, in any order.
    assert score([choice("Positive", "Neutral")], [choice("Neutral", "Positive")])[0] == 1.0
    assert score([choice("Positive", "Neutral")], [choice("Positive")])[0] == 0.0
    # One annotator answered, the other did not: a disagreement on that control.
    assert score([choice("Positive")], []) == (0.0, {"sentiment": 0.0})


def test_controls_average_and_unused_ones_are_left_out() -> None:
    # sentiment agrees (1), stars do not (4 vs 2: 0), nothing else used: (1 + 0) / 2.
    value, per_control = score([choice("Positive"), stars(4)], [choice("Positive"), stars(2)])
    assert per_control == {"sentiment": 1.0, "stars": 0.0}
    assert value == (1 + 0) / 2
    # Two empty annotations both say "nothing here".
    assert score([], []) == (1.0, {})


def test_boxes_hand_calculation() -> None:
    # A: Car (0,0,10,10), Person (50,50,10,10).
    # B: Car (5,0,10,10) -> overlap with A's car is 5 x 10 = 50, union 100 + 100 - 50 = 150,
    #    IoU = 50 / 150 = 0.333 (below 0.5: no match at 0.5, a match at 0.3);
    #    Person (52,50,10,10) -> overlap 8 x 10 = 80, union 200 - 80 = 120, IoU = 0.667;
    #    Car (80,80,5,5) -> overlaps nothing.
    a = [box(0, 0, 10, 10, "Car"), box(50, 50, 10, 10, "Person")]
    b = [box(5, 0, 10, 10, "Car"), box(52, 50, 10, 10, "Person"), box(80, 80, 5, 5, "Car")]
    # At IoU >= 0.5 one pair matches (the persons): 2 x 1 / (2 + 3) = 0.4.
    assert score(a, b, 0.5) == (pytest.approx(2 * 1 / (2 + 3)), {"box": pytest.approx(0.4)})
    # At IoU >= 0.3 both pairs match: 2 x 2 / (2 + 3) = 0.8.
    assert score(a, b, 0.3)[0] == pytest.approx(2 * 2 / (2 + 3))


def test_boxes_match_only_with_the_same_label() -> None:
    # Identical geometry, different label: IoU 1 but no match: 2 x 0 / (1 + 1) = 0.
    assert score([box(0, 0, 10, 10, "Car")], [box(0, 0, 10, 10, "Person")])[0] == 0.0
    # Same box, same label: 2 x 1 / 2 = 1.
    assert score([box(0, 0, 10, 10, "Car")], [box(0, 0, 10, 10, "Car")])[0] == 1.0


def test_a_box_is_matched_once_greedily_by_the_highest_iou() -> None:
    # A has one car at (0,0,10,10); B has two cars, (1,0,10,10) IoU = 90 / 110 = 0.818 and
    # (0,0,10,10) IoU = 1. The identical one is taken; the other stays unmatched:
    # 2 x 1 / (1 + 2) = 0.667.
    a = [box(0, 0, 10, 10, "Car")]
    b = [box(1, 0, 10, 10, "Car"), box(0, 0, 10, 10, "Car")]
    assert score(a, b)[0] == pytest.approx(2 / 3)


def test_rotated_rectangles_and_polygons_use_their_area() -> None:
    # A square rotated by 90 degrees about its top-left corner (0,0) covers x in [-10, 0]:
    # no overlap with the unrotated one.
    assert metrics.iou(
        metrics._rectangle({"x": 0, "y": 0, "width": 10, "height": 10, "rotation": 90}) or [],
        metrics._rectangle({"x": 0, "y": 0, "width": 10, "height": 10}) or [],
    ) == pytest.approx(0.0, abs=1e-9)
    # Triangle (0,0),(10,0),(0,10) (area 50) inside square (0,0)-(10,10) (area 100):
    # IoU = 50 / 100 = 0.5.
    triangle = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)]
    square = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]
    assert metrics.iou(triangle, square) == pytest.approx(0.5)
    assert metrics.iou(square, triangle) == pytest.approx(0.5)
    outline = {"from_name": "outline", "to_name": "image", "type": "polygonlabels"}
    a = [{**outline, "value": {"points": [list(p) for p in triangle], "polygonlabels": ["Road"]}}]
    b = [{**outline, "value": {"points": [list(p) for p in square], "polygonlabels": ["Road"]}}]
    assert score(a, b, 0.5)[0] == 1.0  # IoU 0.5 reaches the threshold: 2 x 1 / 2
    assert score(a, b, 0.6)[0] == 0.0


def test_spans_hand_calculation() -> None:
    # A: PER [0, 10), ORG [20, 30).  B: PER [5, 15), ORG [20, 30), ORG [40, 45).
    # PER: A and B share [5, 10) = 5 characters; either covers [0, 15) = 15.
    # ORG: share [20, 30) = 10; either covers [20, 30) + [40, 45) = 15.
    # Score = (5 + 10) / (15 + 15) = 0.5.
    a = [span(0, 10, "PER"), span(20, 30, "ORG")]
    b = [span(5, 15, "PER"), span(20, 30, "ORG"), span(40, 45, "ORG")]
    assert score(a, b) == (pytest.approx((5 + 10) / (15 + 15)), {"ner": pytest.approx(0.5)})
    # Overlapping spans of one annotator count their characters once: [0, 10) + [5, 15) is
    # [0, 15) = 15 characters against B's [0, 15): 15 / 15.
    assert score([span(0, 10, "PER"), span(5, 15, "PER")], [span(0, 15, "PER")])[0] == 1.0
    # The same characters under another label share nothing: 0 / (10 + 10).
    assert score([span(0, 10, "PER")], [span(0, 10, "ORG")])[0] == 0.0


def test_a_task_averages_its_annotator_pairs() -> None:
    controls = [CONTROLS["sentiment"]]
    results = {7: [choice("Positive")], 8: [choice("Positive")], 9: [choice("Negative")]}
    scored = metrics.task_score(results, controls, iou_threshold=0.5)
    # Pairs (7,8) = 1, (7,9) = 0, (8,9) = 0: (1 + 0 + 0) / 3.
    assert [(p.annotator_a, p.annotator_b, p.score) for p in scored.pairs] == [
        (7, 8, 1.0),
        (7, 9, 0.0),
        (8, 9, 0.0),
    ]
    assert scored.agreement == pytest.approx(1 / 3)
    assert scored.controls == {"sentiment": pytest.approx(1 / 3)}
    assert (
        metrics.task_score({7: [choice("Positive")]}, controls, iou_threshold=0.5).agreement is None
    )


def test_krippendorff_alpha_on_a_hand_checked_matrix() -> None:
    """Nominal alpha for 2 coders x 4 units, worked by hand from the coincidence matrix.

    Coder 1: a a b b; coder 2: a b b b. Pairable values: n = 8.
    Coincidences (each unit with 2 values gives both ordered pairs, weight 1/(2-1) = 1):
    unit 1 (a,a): o_aa += 2; unit 2 (a,b): o_ab += 1, o_ba += 1; units 3, 4 (b,b): o_bb += 4.
    n_a = 2 + 1 = 3, n_b = 1 + 4 = 5.
    Observed disagreement D_o = (o_ab + o_ba) / n = 2 / 8 = 0.25.
    Expected D_e = (n_a n_b + n_b n_a) / (n (n - 1)) = 30 / 56.
    alpha = 1 - D_o / D_e = 1 - 0.25 x 56 / 30 = 1 - 14 / 30 = 0.5333.
    """
    data = np.array([[0, 0, 1, 1], [0, 1, 1, 1]], dtype=float)
    expected = 1 - 0.25 / (30 / 56)
    assert expected == pytest.approx(16 / 30)
    assert krippendorff.alpha(reliability_data=data, level_of_measurement="nominal") == (
        pytest.approx(expected)
    )
    # The same data as value counts (units x categories), as the service passes it.
    counts = np.array([[2, 0], [1, 1], [0, 2], [0, 2]], dtype=float)
    assert krippendorff.alpha(value_counts=counts, level_of_measurement="nominal") == (
        pytest.approx(expected)
    )

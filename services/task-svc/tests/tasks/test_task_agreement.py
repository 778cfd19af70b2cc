"""`GET /api/tasks/{id}/agreement/`: the label distribution over a task's annotations."""

from __future__ import annotations

from typing import Any

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
  <Rating name="stars" toName="text"/>
</View>"""


def _annotate(stack: Any, actor: Any, task: int, choice: str, stars: int, **extra: Any) -> None:
    result = [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [choice]},
        },
        {"from_name": "stars", "to_name": "text", "type": "rating", "value": {"rating": stars}},
    ]
    answer = stack.task.post(
        f"/api/tasks/{task}/annotations", json={"result": result, **extra}, headers=actor.headers
    )
    assert answer.status_code == 201, answer.text


def test_the_distribution_counts_labels_and_averages_numbers(stack, cast, make_project) -> None:
    project = make_project(label_config=CONFIG)
    task = stack.task.post(
        "/api/tasks", json={"project": project, "data": {"text": "t"}}, headers=cast.owner.headers
    ).json()["id"]
    _annotate(stack, cast.annotator, task, "Positive", 4)
    _annotate(stack, cast.annotator2, task, "Positive", 2)
    _annotate(stack, cast.owner, task, "Negative", 5, was_cancelled=True)  # a skip: left out
    answer = stack.task.get(f"/api/tasks/{task}/agreement/", headers=cast.annotator.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "total_annotations": 2,
        "distributions": {
            "sentiment": {"type": "choices", "labels": {"Positive": 2}},
            "stars": {"type": "rating", "labels": {}, "average": 3.0, "count": 2},
        },
        # The two annotators agree on the sentiment (1) and not on the stars (0): 1/2.
        "agreement": 0.5,
        "needs_review": False,
        "annotators_count": 2,
        "controls": {"sentiment": 1.0, "stars": 0.0},
        "pairs": [],  # per-pair scores are for managers
    }
    assert (
        stack.task.get(f"/api/tasks/{task}/agreement/", headers=cast.outsider.headers).status_code
        == 404
    )
    assert stack.task.get(f"/api/tasks/{task}/agreement/").status_code == 401

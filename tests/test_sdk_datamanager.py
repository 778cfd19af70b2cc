"""The data manager through the official SDK: views, the filtered task list and actions."""

from __future__ import annotations

import json

import httpx
import pytest
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.data_manager import Column, Filters, Operator, Type

from .conftest import ADMIN_TOKEN  # type: ignore[import-not-found]

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""
HEADERS = {"Authorization": f"Token {ADMIN_TOKEN}"}


def choice(label: str) -> list[dict[str, object]]:
    return [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


@pytest.fixture()
def sdk(suite) -> LabelStudio:
    return LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)


def apples() -> dict[str, object]:
    return Filters.create(
        Filters.AND,
        [Filters.item(Column.data("text"), Operator.CONTAINS, Type.String, Filters.value("APPLE"))],
    )


def test_task_list_with_filters_views_and_pages(sdk: LabelStudio, suite) -> None:
    project = sdk.projects.create(title="Data manager", label_config=CONFIG)
    ids = [
        sdk.tasks.create(project=project.id, data={"text": text}).id
        for text in ("apple pie", "banana", "apple tart")
    ]
    sdk.annotations.create(id=ids[0], result=choice("Positive"))
    sdk.predictions.create(task=ids[2], result=choice("Negative"), model_version="m1")

    query = json.dumps({"filters": apples(), "ordering": ["-tasks:id"]})
    listed = list(sdk.tasks.list(project=project.id, query=query))
    assert [t.id for t in listed] == [ids[2], ids[0]]
    # The SDK asks for fields=all: annotations and predictions come with each task.
    assert [a["result"] for a in listed[1].annotations] == [choice("Positive")]
    assert [p.model_version for p in listed[0].predictions] == ["m1"]

    # Paging one task at a time ends at the server's 404.
    assert [t.id for t in sdk.tasks.list(project=project.id, page_size=1)] == ids

    view = sdk.views.create(project=project.id, data={"title": "apples", "filters": apples()})
    assert view.data["filters"] == apples()
    assert [v.id for v in sdk.views.list(project=project.id)] == [view.id]
    assert [t.id for t in sdk.tasks.list(view=view.id)] == [ids[0], ids[2]]

    envelope = httpx.get(
        f"{suite.base_url}/api/tasks", params={"project": project.id}, headers=HEADERS
    ).json()
    assert (envelope["total"], envelope["total_annotations"], envelope["total_predictions"]) == (
        3,
        1,
        1,
    )
    past_end = httpx.get(
        f"{suite.base_url}/api/tasks",
        params={"project": project.id, "page": 2},
        headers=HEADERS,
    )
    assert past_end.status_code == 404 and past_end.json()["detail"] == "Invalid page."

    sdk.views.delete(id=view.id)
    assert list(sdk.views.list(project=project.id)) == []


def test_bad_filter_is_a_400(sdk: LabelStudio) -> None:
    project = sdk.projects.create(title="Bad filter", label_config=CONFIG)
    bad = {
        "filters": {
            "conjunction": "and",
            "items": [
                {"filter": "filter:tasks:id", "operator": "around", "type": "Number", "value": 1}
            ],
        }
    }
    with pytest.raises(ApiError) as refused:
        list(sdk.tasks.list(project=project.id, query=json.dumps(bad)))
    assert refused.value.status_code == 400
    assert "filters.items[0].operator" in refused.value.body["validation_errors"]


def test_actions_through_the_sdk(sdk: LabelStudio) -> None:
    project = sdk.projects.create(title="Actions", label_config=CONFIG)
    ids = [sdk.tasks.create(project=project.id, data={"text": f"t{i}"}).id for i in range(3)]
    sdk.annotations.create(id=ids[0], result=choice("Positive"))
    sdk.annotations.create(id=ids[1], result=choice("Negative"))

    assert "delete_tasks" in [a.id for a in sdk.actions.list(project=project.id)]
    sdk.actions.create(
        id="delete_tasks",
        project=project.id,
        selected_items={"all": False, "included": [ids[1]]},
    )
    remaining = [t.id for t in sdk.tasks.list(project=project.id)]
    assert remaining == [ids[0], ids[2]]
    counted = sdk.projects.get(id=project.id)
    assert (counted.task_number, counted.total_annotations_number) == (2, 1)
    assert counted.finished_task_number == 1

    sdk.actions.create(
        id="delete_tasks_annotations",
        project=project.id,
        selected_items={"all": True, "excluded": []},
    )
    counted = sdk.projects.get(id=project.id)
    assert (counted.task_number, counted.total_annotations_number) == (2, 0)
    assert counted.finished_task_number == 0 and counted.num_tasks_with_annotations == 0

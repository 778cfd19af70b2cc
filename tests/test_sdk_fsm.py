"""Label Studio's FSM rows (`/api/fsm/...`) through the official SDK's `states` client,
against the single process: the route table sends them to task-svc.

A page is read with `.items`: iterating the SDK's pager asks for the next page until one is
empty, and a page past the end is a 404 (Label Studio's page-number pagination; the same
there)."""

from __future__ import annotations

import pytest
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from .conftest import ADMIN_TOKEN  # type: ignore[import-not-found]

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""
RESULT = [
    {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


@pytest.fixture()
def sdk(suite) -> LabelStudio:
    return LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)


def test_state_history_and_a_manual_transition(sdk: LabelStudio) -> None:
    project = sdk.projects.create(title="States", label_config=CONFIG, maximum_annotations=2)
    task = sdk.tasks.create(project=project.id, data={"text": "good film"})
    annotation = sdk.annotations.create(id=task.id, result=RESULT)

    history = sdk.states.state_history("task", task.id, ordering="id").items or []
    assert [(s.previous_state, s.state, s.transition_name) for s in history] == [
        (None, "CREATED", "task_created"),
        ("CREATED", "IN_PROGRESS", "task_in_progress"),
    ]
    me = sdk.users.whoami()
    assert history[0].triggered_by is not None and history[0].triggered_by.id == me.id
    assert history[0].created_at is not None and history[0].id

    filtered = sdk.states.state_history("task", task.id, state="in_progress").items or []
    assert [s.transition_name for s in filtered] == ["task_in_progress"]
    submitted = sdk.states.state_history("annotation", annotation.id).items or []
    assert [s.transition_name for s in submitted] == ["annotation_submitted"]

    done = sdk.states.execute_transition(
        "task", task.id, transition_name="task_completed", transition_data={"why": "checked"}
    )
    assert done.success is True and done.new_state == "COMPLETED"
    assert done.state_record is not None and done.state_record.previous_state == "IN_PROGRESS"
    newest = (sdk.states.state_history("task", task.id).items or [])[0]
    assert newest.state == "COMPLETED" and newest.id == done.state_record.id

    with pytest.raises(ApiError) as refused:
        sdk.states.execute_transition("task", task.id, transition_name="task_completed")
    assert refused.value.status_code == 409
    with pytest.raises(ApiError) as unknown:
        sdk.states.state_history("comment", task.id)
    assert unknown.value.status_code == 400

"""Task assignment through the official SDK (Label Studio Enterprise's API): two annotators
in an `assigned_only` project each see and label only their own tasks, a bulk assignment
past the per-person cap is refused whole, and a reservation that runs out frees its task."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import httpx
import pytest
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.types.assignment_settings_request import AssignmentSettingsRequest

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


@dataclass(frozen=True)
class Person:
    id: int
    token: str


@pytest.fixture()
def sdk(suite) -> LabelStudio:
    return LabelStudio(base_url=suite.base_url, api_key=ADMIN_TOKEN)


def _annotator(suite, sdk: LabelStudio) -> Person:
    """A new annotator of the admin's organization, with their own API token."""
    email = f"assignee-{uuid.uuid4().hex[:8]}@example.com"
    password = "assignee-password-1"
    # The SDK's users.create has no password (sign-in is by invitation there).
    created = httpx.post(
        f"{suite.base_url}/api/users",
        json={"email": email, "password": password, "role": "annotator"},
        headers={"Authorization": f"Token {ADMIN_TOKEN}"},
    )
    assert created.status_code == 201, created.text
    with httpx.Client(base_url=suite.base_url, timeout=30) as browser:
        signed_in = browser.post("/user/login", json={"email": email, "password": password})
        assert signed_in.status_code == 200, signed_in.text
        token = browser.post(
            "/api/current-user/reset-token",
            headers={"X-CSRFToken": browser.cookies.get("csrftoken", "")},
        )
        assert token.status_code in (200, 201), token.text
    return Person(id=int(created.json()["id"]), token=token.json()["token"])


def _project(
    suite, sdk: LabelStudio, people: list[Person], tasks: int, **settings
) -> tuple[int, list[int]]:
    project = sdk.projects.create(title="Assigned work", label_config=CONFIG)
    assert project.id is not None
    sdk.projects.update(id=project.id, assignment_settings=AssignmentSettingsRequest(**settings))
    for person in people:
        admitted = httpx.post(
            f"{suite.base_url}/api/projects/{project.id}/members/",
            json={"user": person.id},
            headers={"Authorization": f"Token {ADMIN_TOKEN}"},
        )
        assert admitted.status_code == 201, admitted.text
    ids = [
        sdk.tasks.create(project=project.id, data={"text": f"text {n}"}).id for n in range(tasks)
    ]
    return project.id, [int(task_id or 0) for task_id in ids]


def _next(suite, person: Person, project_id: int) -> int | None:
    answer = httpx.get(
        f"{suite.base_url}/api/projects/{project_id}/next",
        headers={"Authorization": f"Token {person.token}"},
    )
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    return int(answer.json()["id"])


def test_two_annotators_each_see_only_their_assigned_tasks(suite, sdk: LabelStudio) -> None:
    alice, bob = _annotator(suite, sdk), _annotator(suite, sdk)
    project_id, ids = _project(
        suite, sdk, [alice, bob], 5, label_stream_task_distribution="assigned_only"
    )
    made = sdk.projects.assignments.bulk_assign(
        id=project_id,
        type="AN",
        users=[alice.id],
        selected_items={"all": False, "included": ids[:2]},
    )
    assert made.assignments == 2
    sdk.projects.assignments.bulk_assign(
        id=project_id, type="AN", users=[bob.id], selected_items={"all": True, "excluded": ids[:2]}
    )
    assert [
        row.assignee for row in sdk.projects.assignments.list(id=project_id, task_pk=ids[0])
    ] == [alice.id]

    for person, own in ((alice, ids[:2]), (bob, ids[2:])):
        client = LabelStudio(base_url=suite.base_url, api_key=person.token)
        assert [task.id for task in client.tasks.list(project=project_id)] == own
        other = next(task_id for task_id in ids if task_id not in own)
        with pytest.raises(ApiError) as hidden:
            client.tasks.get(id=other)
        assert hidden.value.status_code == 404
        labelled = []
        while (task_id := _next(suite, person, project_id)) is not None:
            labelled.append(task_id)
            client.annotations.create(id=task_id, result=RESULT)
        assert labelled == own

    queues = httpx.get(
        f"{suite.base_url}/api/projects/{project_id}/assignments",
        headers={"Authorization": f"Token {ADMIN_TOKEN}"},
    ).json()
    assert [(q["user"], q["assigned"], q["done"]) for q in queues] == [
        (alice.id, 2, 2),
        (bob.id, 3, 3),
    ]


def test_a_bulk_assignment_past_the_cap_is_400_and_changes_nothing(suite, sdk) -> None:
    alice = _annotator(suite, sdk)
    project_id, ids = _project(
        suite,
        sdk,
        [alice],
        4,
        label_stream_task_distribution="assigned_only",
        max_tasks_per_person=2,
    )
    sdk.projects.assignments.bulk_assign(
        id=project_id,
        type="AN",
        users=[alice.id],
        selected_items={"all": False, "included": ids[:1]},
    )
    with pytest.raises(ApiError) as refused:
        sdk.projects.assignments.bulk_assign(
            id=project_id, type="AN", users=[alice.id], selected_items={"all": True, "excluded": []}
        )
    assert refused.value.status_code == 400
    assert refused.value.body["validation_errors"]["users"] == [
        f"User {alice.id} would hold 4 open tasks; this project's cap (max_tasks_per_person) is 2."
    ]
    assigned = [
        task_id for task_id in ids if sdk.projects.assignments.list(id=project_id, task_pk=task_id)
    ]
    assert assigned == ids[:1]


def test_a_reservation_that_runs_out_frees_the_task(suite, sdk: LabelStudio) -> None:
    alice, bob = _annotator(suite, sdk), _annotator(suite, sdk)
    project_id, ids = _project(
        suite,
        sdk,
        [alice, bob],
        1,
        label_stream_task_distribution="auto_distribution",
        reservation_timeout_seconds=1,
    )
    assert _next(suite, alice, project_id) == ids[0]
    assert _next(suite, bob, project_id) is None
    time.sleep(1.5)
    assert _next(suite, bob, project_id) == ids[0]
    assert _next(suite, alice, project_id) is None

"""Assignment in a real browser: a manager assigns tasks to an annotator from the data
manager's "Assign Tasks" action, and that annotator's task list and label stream then hold
exactly those tasks; unassigning one takes it away again."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from .conftest import sign_in_through_ui  # type: ignore[import-not-found]

CLASSIFICATION = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/></Choices>
</View>"""


def _listed(page: Page) -> list[int]:
    return [int(text) for text in page.locator("tbody td[data-column='id']").all_inner_texts()]


def test_a_manager_assigns_tasks_and_the_annotator_sees_exactly_them(
    page: Page,
    anonymous_page: Page,
    api: httpx.Client,
    web_app: Any,
    screenshot: Callable[[Page, str], Path],
) -> None:
    email = f"assignee-{uuid.uuid4().hex[:8]}@example.com"
    password = "assignee-password-1"
    created = api.post(
        "/api/users", json={"email": email, "password": password, "role": "annotator"}
    )
    assert created.status_code == 201, created.text
    annotator_id = created.json()["id"]
    project = api.post(
        "/api/projects",
        json={
            "title": "Assigned work",
            "label_config": CLASSIFICATION,
            "assignment_settings": {"label_stream_task_distribution": "assigned_only"},
        },
    )
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    assert (
        api.post(f"/api/projects/{project_id}/members/", json={"user": annotator_id}).status_code
        == 201
    )
    imported = api.post(
        f"/api/projects/{project_id}/import",
        content=json.dumps([{"text": f"text {n}"} for n in range(4)]),
        headers={"Content-Type": "application/json"},
    )
    assert imported.status_code == 201, imported.text
    ids = sorted(
        task["id"] for task in api.get("/api/tasks", params={"project": project_id}).json()["tasks"]
    )
    chosen = [ids[0], ids[2]]

    page.goto(f"/projects/{project_id}/data")
    expect(page.get_by_role("status", name="Task totals")).to_contain_text("4 tasks")
    expect(page.locator("tbody tr")).to_have_count(4)
    expect(page.get_by_role("columnheader", name="Assigned to")).to_have_count(1)
    for task_id in chosen:
        box = page.get_by_role("checkbox", name=f"Select task {task_id}")
        box.check()
        expect(box).to_be_checked()
    page.get_by_role("button", name="Actions (2 selected)").click()
    page.get_by_role("menuitem", name="Assign Tasks", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Work")).to_have_value("AN")
    dialog.get_by_role("checkbox", name=email).check()
    screenshot(page, "assign-tasks-dialog")
    dialog.get_by_role("button", name="Assign Tasks", exact=True).click()
    expect(page.get_by_text("Made 2 assignments")).to_be_visible()
    for task_id in ids:
        row = page.locator("tbody tr").filter(
            has=page.get_by_role("checkbox", name=f"Select task {task_id}")
        )
        expected = f"#{annotator_id}" if task_id in chosen else ""
        expect(row.locator("td[data-column='assignees']")).to_have_text(expected)

    annotator = anonymous_page
    sign_in_through_ui(annotator, email, password)
    annotator.goto(f"/projects/{project_id}/data")
    expect(annotator.locator("tbody tr")).to_have_count(2)
    assert _listed(annotator) == chosen
    with httpx.Client(base_url=web_app.base_url, timeout=30) as stream:
        assert (
            stream.post("/user/login", json={"email": email, "password": password}).status_code
            == 200
        )
        served = stream.get(f"/api/projects/{project_id}/next")
        assert served.status_code == 200, served.text
        assert served.json()["id"] == chosen[0]
        assert stream.get(f"/api/tasks/{ids[1]}").status_code == 404

    # Unassign the second one from the manager's data manager: it leaves the annotator's list.
    page.get_by_role("checkbox", name=f"Select task {chosen[1]}").check()
    page.get_by_role("button", name="Actions (1 selected)").click()
    page.get_by_role("menuitem", name="Unassign Tasks").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("checkbox", name=email).check()
    dialog.get_by_role("button", name="Unassign Tasks").click()
    expect(page.get_by_text("Removed 1 assignments")).to_be_visible()
    annotator.reload()
    expect(annotator.locator("tbody tr")).to_have_count(1)
    assert _listed(annotator) == [chosen[0]]
    queues = api.get(f"/api/projects/{project_id}/assignments").json()
    assert queues == [{"user": annotator_id, "type": "AN", "assigned": 1, "done": 0, "open": 1}]

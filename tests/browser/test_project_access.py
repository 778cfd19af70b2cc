"""The project's Access settings: a manager admits an annotator, who then sees the project
(and only then), and removes them again."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import Page, expect

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/></Choices>
</View>"""


def _visible_project_ids(client: httpx.Client) -> set[int]:
    answer = client.get("/api/projects", params={"page_size": 100})
    assert answer.status_code == 200, answer.text
    return {project["id"] for project in answer.json()["results"]}


def test_a_manager_admits_an_annotator_to_a_project_and_removes_them(
    page: Page,
    api: httpx.Client,
    web_app: Any,
    make_project: Callable[..., dict[str, Any]],
) -> None:
    email = f"annotator-{uuid.uuid4().hex[:8]}@example.com"
    password = "annotator-password-1"
    created = api.post(
        "/api/users", json={"email": email, "password": password, "role": "annotator"}
    )
    assert created.status_code == 201, created.text
    project_id = make_project("Access", CONFIG, [{"text": "hello"}])["id"]

    with httpx.Client(base_url=web_app.base_url, timeout=30) as annotator:
        signed_in = annotator.post("/user/login", json={"email": email, "password": password})
        assert signed_in.status_code == 200, signed_in.text
        assert project_id not in _visible_project_ids(annotator)

        page.goto(f"/projects/{project_id}/settings/access")
        access = page.get_by_role("list", name="Project access")
        checkbox = access.get_by_label(f"{email} (Annotator)")
        expect(checkbox).not_to_be_checked()
        # The box is controlled: it turns once the server has admitted them.
        checkbox.click()
        expect(page.get_by_text(f"{email} can now see this project")).to_be_visible()
        expect(checkbox).to_be_checked()
        assert project_id in _visible_project_ids(annotator)

        checkbox.click()
        expect(page.get_by_text(f"{email} no longer sees this project")).to_be_visible()
        expect(checkbox).not_to_be_checked()
        assert project_id not in _visible_project_ids(annotator)
        members = api.get(f"/api/projects/{project_id}/members/").json()
        assert members == []

"""Every page of the app opens in a real browser without an uncaught error, and is saved
as a screenshot (test-artifacts/screenshots/<page>.png) for people to look at."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Route, expect

TEXT_CLASSIFICATION = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>"""


def test_sign_in_refuses_a_wrong_password_then_lets_the_admin_in(
    anonymous_page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    page = anonymous_page
    page.goto("/projects")
    page.wait_for_url("**/sign-in**")
    screenshot(page, "sign-in")
    page.get_by_label("Email").fill("admin@example.com")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Email or password is incorrect")

    page.get_by_label("Password").fill("browser-admin-password-1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/projects")
    expect(page.get_by_role("heading", name="Projects", exact=True)).to_be_visible()

    page.goto("/sign-up")
    screenshot(page, "sign-up")


def test_every_page_renders(
    page: Page,
    make_project: Callable[..., dict[str, Any]],
    screenshot: Callable[[Page, str], Path],
) -> None:
    project_id = make_project(
        "Screens", TEXT_CLASSIFICATION, [{"text": "A calm review."}, {"text": "An angry one."}]
    )["id"]
    empty_id = make_project("Empty project", TEXT_CLASSIFICATION, [])["id"]

    page.goto("/projects")
    expect(page.get_by_text("Screens").first).to_be_visible()
    screenshot(page, "projects")

    page.goto("/projects/new")
    expect(page.get_by_label("Project name")).to_be_visible()
    screenshot(page, "create-project")
    page.get_by_role("button", name="Next: labeling setup").click()
    expect(page.get_by_role("button", name="Named entity recognition")).to_be_visible()
    screenshot(page, "create-project-templates")

    page.goto(f"/projects/{project_id}/data")
    expect(page.get_by_role("table", name="Tasks")).to_contain_text("A calm review.")
    screenshot(page, "data-manager-all")

    page.goto(f"/projects/{empty_id}/data")
    expect(page.get_by_role("heading", name="No tasks yet")).to_be_visible()
    screenshot(page, "data-manager-empty")

    page.goto(f"/projects/{project_id}/label")
    editor = page.get_by_role("region", name="Labeling editor")
    expect(editor.get_by_text("Positive")).to_be_visible()
    screenshot(page, "labeling-classification")

    page.goto(f"/projects/{project_id}/import")
    expect(page.get_by_text("Drop files here")).to_be_visible()
    screenshot(page, "import-upload")

    page.goto(f"/projects/{project_id}/export")
    expect(page.get_by_role("heading", name="Snapshots", exact=True)).to_be_visible()
    screenshot(page, "export-formats")

    page.goto(f"/projects/{project_id}/settings")
    expect(page.get_by_role("heading").first).to_be_visible()
    screenshot(page, "settings")

    page.goto("/account")
    expect(page.get_by_role("heading").first).to_be_visible()
    screenshot(page, "account")


def test_a_projects_address_opens_its_data_page_before_the_project_loads(
    page: Page, make_project: Callable[..., dict[str, Any]]
) -> None:
    """The project's answer is held back: the address is already the data page, so a
    section clicked while the project loads stays the page shown once it has loaded (the
    redirect used to wait for the project, then send such a click back to the data page)."""
    project_id = make_project("Sections", TEXT_CLASSIFICATION, [{"text": "a"}])["id"]
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route(re.compile(rf"/api/projects/{project_id}(\?.*)?$"), hold)
    page.goto(f"/projects/{project_id}")
    expect(page).to_have_url(re.compile(rf"/projects/{project_id}/data$"))
    page.get_by_role("link", name="Review", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/projects/{project_id}/review$"))
    assert held, "the project was not asked for"
    for route in held:
        route.continue_()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review stream")
    expect(page).to_have_url(re.compile(rf"/projects/{project_id}/review$"))

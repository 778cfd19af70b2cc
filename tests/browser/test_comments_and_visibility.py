"""Comments in the labeling screen's side panel, in a real browser: add one to the task,
resolve it, reopen it; the server's rows and the task's counters follow each click. And the
project setting that shows annotators each other's annotations, saved from the settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""


def _counters(api: httpx.Client, task_id: int) -> tuple[int, int]:
    task = api.get(f"/api/tasks/{task_id}").json()
    return task["comment_count"], task["unresolved_comment_count"]


def test_add_and_resolve_a_comment(
    page: Page,
    api: httpx.Client,
    make_project: Callable[..., dict[str, Any]],
    screenshot: Callable[[Page, str], Path],
) -> None:
    project_id = make_project("Comments", CONFIG, [{"data": {"text": "A blurry review"}}])["id"]
    [task] = api.get("/api/tasks", params={"project": project_id}).json()["tasks"]
    page.goto(f"/projects/{project_id}/label?task={task['id']}")
    panel = page.get_by_role("complementary", name="Comments")
    expect(panel.get_by_text("No comments on this task yet.")).to_be_visible()

    panel.get_by_label("New comment").fill("Is the text readable enough to label?")
    panel.get_by_role("button", name="Add comment").click()
    comment = panel.get_by_test_id("comment")
    expect(comment).to_have_count(1)
    expect(comment).to_contain_text("Is the text readable enough to label?")
    expect(panel.get_by_test_id("comment-counts")).to_have_text("1 · 1 unresolved")
    expect(panel.get_by_label("New comment")).to_have_value("")
    [stored] = api.get("/api/comments/", params={"task": task["id"]}).json()
    assert stored["text"] == "Is the text readable enough to label?"
    assert stored["is_resolved"] is False and stored["annotation"] is None
    assert _counters(api, task["id"]) == (1, 1)

    comment.get_by_role("button", name="Resolve").click()
    expect(comment).to_have_attribute("data-resolved", "true")
    expect(comment.get_by_text("Resolved", exact=True)).to_be_visible()
    expect(panel.get_by_test_id("comment-counts")).to_have_text("1 · 0 unresolved")
    screenshot(page, "labeling-comment-resolved")
    resolved = api.get(f"/api/comments/{stored['id']}/").json()
    assert resolved["is_resolved"] is True and resolved["resolved_at"] is not None
    assert _counters(api, task["id"]) == (1, 0)

    comment.get_by_role("button", name="Reopen").click()
    expect(comment).to_have_attribute("data-resolved", "false")
    assert api.get(f"/api/comments/{stored['id']}/").json()["is_resolved"] is False
    assert _counters(api, task["id"]) == (1, 1)


def test_the_annotation_visibility_setting(
    page: Page, api: httpx.Client, make_project: Callable[..., dict[str, Any]]
) -> None:
    project_id = make_project("Visibility", CONFIG, [])["id"]
    assert (
        api.get(f"/api/projects/{project_id}").json()["annotators_see_others_annotations"] is False
    )
    page.goto(f"/projects/{project_id}/settings")
    setting = page.get_by_label("Annotators see each other's annotations")
    expect(setting).not_to_be_checked()
    setting.check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Project settings saved")).to_be_visible()
    assert (
        api.get(f"/api/projects/{project_id}").json()["annotators_see_others_annotations"] is True
    )

"""The data manager in a real browser: server paging, ordering, columns, saved views with
their filters, the task preview and a bulk action with its confirmation."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

CLASSIFICATION = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>"""


def first_cells(page: Page, column: str) -> list[str]:
    return page.locator(f"tbody td[data-column='{column}']").all_inner_texts()


def wait_for_views(
    api: httpx.Client, project_id: int, check: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """The project's saved views once `check` holds (the page saves after a pause)."""
    deadline = time.monotonic() + 10
    while True:
        views: list[dict[str, Any]] = api.get(
            "/api/dm/views", params={"project": project_id}
        ).json()
        if check(views) or time.monotonic() > deadline:
            return views
        time.sleep(0.2)


def test_paging_ordering_columns_views_and_bulk_delete(
    page: Page,
    api: httpx.Client,
    make_project: Callable[..., dict[str, Any]],
    screenshot: Callable[[Page, str], Path],
) -> None:
    tasks = [{"text": f"review {number:02d}"} for number in (7, 3, 12, 1, 9, 5, 11, 2, 10, 4, 8, 6)]
    project_id = make_project("Data manager", CLASSIFICATION, tasks)["id"]
    page.goto(f"/projects/{project_id}/data")
    totals = page.get_by_role("status", name="Task totals")
    expect(totals).to_contain_text("12 tasks · 0 annotations · 0 predictions")

    # Server pages: 10 per page, then the remaining 2.
    page.get_by_label("Page size").select_option("10")
    expect(page.locator("tbody tr")).to_have_count(10)
    pages = page.get_by_role("navigation", name="Task pages")
    expect(pages).to_contain_text("1\u201310 of 12")
    pages.get_by_role("button", name="Next").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(pages).to_contain_text("11\u201312 of 12")

    # Ordering by a data field: ascending, then descending (back to page 1 each time).
    page.get_by_role("button", name="Order by data.text").click()
    expect(page.locator("th[aria-sort='ascending']")).to_contain_text("data.text")
    expect(page.locator("tbody td[data-column='data.text']").first).to_have_text("review 01")
    page.get_by_role("button", name="Order by data.text").click()
    expect(page.locator("th[aria-sort='descending']")).to_contain_text("data.text")
    expect(page.locator("tbody td[data-column='data.text']").first).to_have_text("review 12")
    assert first_cells(page, "data.text")[:3] == ["review 12", "review 11", "review 10"]

    # Columns: hide one shown by default, show one hidden by default.
    page.get_by_role("button", name="Columns").click()
    page.get_by_role("checkbox", name="Cancelled").uncheck()
    page.get_by_role("checkbox", name="Inner ID").check()
    page.keyboard.press("Escape")
    expect(page.get_by_role("columnheader", name="Cancelled")).to_have_count(0)
    expect(page.get_by_role("columnheader", name="Inner ID")).to_have_count(1)

    # A saved view keeps its filters: create, filter, rename, reload, find it again.
    page.get_by_role("button", name="New view").click()
    expect(page.get_by_role("tab", name="View 1")).to_have_attribute("aria-selected", "true")
    page.get_by_role("button", name="Filters").click()
    page.get_by_role("button", name="Add filter").click()
    page.get_by_label("Filter 1 column").select_option(label="data.text")
    page.get_by_label("Filter 1 operator").select_option(label="contains")
    page.get_by_label("Filter 1 value").fill("review 1")
    expect(totals).to_contain_text("3 tasks")
    views = wait_for_views(
        api,
        project_id,
        lambda found: bool(found and found[0]["data"].get("filters", {}).get("items")),
    )
    [item] = views[0]["data"]["filters"]["items"]
    assert item == {
        "filter": "filter:tasks:data.text",
        "operator": "contains",
        "type": "String",
        "value": "review 1",
    }
    page.get_by_role("button", name="Rename view").click()
    page.get_by_label("View name").fill("Tens")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("tab", name="Tens")).to_be_visible()
    screenshot(page, "data-manager-views")

    page.reload()
    page.get_by_role("tab", name="Tens").click()
    expect(totals).to_contain_text("3 tasks")
    page.get_by_role("button", name="Filters (1)").click()
    expect(page.get_by_label("Filter 1 value")).to_have_value("review 1")

    # The preview shows a task's data without leaving the table.
    first_id = int(page.locator("tbody tr").first.get_attribute("data-task-id") or 0)
    page.get_by_role("button", name=f"Preview task {first_id}").click()
    preview = page.get_by_role("complementary", name="Task preview")
    expect(preview.get_by_role("heading", name=f"Task {first_id}")).to_be_visible()
    expect(preview.get_by_role("region", name="Labeling editor")).to_contain_text("Positive")
    expect(preview).to_contain_text("Not annotated yet.")
    screenshot(page, "data-manager-preview")
    preview.get_by_role("button", name="Close preview").click()

    # "Label all tasks" labels the view's tasks, in the view's order.
    page.get_by_role("button", name="Label all tasks").click()
    expect(page.get_by_text("Next task among the data manager's filtered tasks")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Task {first_id}")
    page.go_back()

    # Bulk delete of two ticked tasks, after confirming.
    page.get_by_role("tab", name="All tasks").click()
    expect(totals).to_contain_text("12 tasks")
    # The tab kept its descending order: the two first rows are the highest two.
    expect(page.locator("tbody td[data-column='data.text']").first).to_have_text("review 12")
    assert first_cells(page, "data.text")[:2] == ["review 12", "review 11"]
    ids = [int(cell) for cell in first_cells(page, "id")[:2]]
    for task_id in ids:
        page.get_by_role("checkbox", name=f"Select task {task_id}").check()
    page.get_by_role("button", name="Actions (2 selected)").click()
    page.get_by_role("menuitem", name="Delete Tasks").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("You are going to delete the selected tasks.")
    dialog.get_by_role("button", name="Delete Tasks").click()
    expect(totals).to_contain_text("10 tasks")
    for task_id in ids:
        assert api.get(f"/api/tasks/{task_id}").status_code == 404

    # "Select all" means every task under the view's filter, not only the ticked rows.
    page.get_by_role("tab", name="Tens").click()
    expect(totals).to_contain_text("1 task ·")
    page.get_by_role("checkbox", name="Select all tasks").check()
    expect(page.get_by_role("button", name="Actions (1 selected)")).to_be_enabled()

    # Two filter rows joined with "or": either text matches.
    page.get_by_role("button", name="Filters (1)").click()
    page.get_by_role("button", name="Add filter").click()
    page.get_by_label("Filter 2 column").select_option(label="data.text")
    page.get_by_label("Filter 2 operator").select_option(label="equals")
    page.get_by_label("Filter 2 value").fill("review 05")
    expect(totals).to_contain_text("0 tasks")
    page.get_by_label("Match").select_option("or")
    expect(totals).to_contain_text("2 tasks")
    assert sorted(first_cells(page, "data.text")) == ["review 05", "review 10"]

    # Deleting the view removes its tab; the tasks stay.
    page.get_by_role("button", name="Delete view").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete view").click()
    expect(page.get_by_role("tab", name="Tens")).to_have_count(0)
    assert wait_for_views(api, project_id, lambda found: not found) == []
    expect(totals).to_contain_text("10 tasks")
